// A survey participant's credential: an unguessable token the page keeps
// (cookie or bearer), of which the store keeps only a hash, so a leaked
// database opens no session.
#ifndef DREAMSHOT_SURVEY_PARTICIPANT_TOKEN_H_
#define DREAMSHOT_SURVEY_PARTICIPANT_TOKEN_H_

#include <string>

namespace dreamshot::survey {

// 32 random bytes from the OS as 64 lowercase hex digits.
std::string NewParticipantToken();
// The SHA-256 the store looks a participant up by.
std::string TokenHash(const std::string& token);
// 64 lowercase hex digits.
bool WellFormedToken(const std::string& token);

}  // namespace dreamshot::survey

#endif  // DREAMSHOT_SURVEY_PARTICIPANT_TOKEN_H_
