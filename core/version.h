// DreamShot's release, written into what the platform produces (adapter
// metadata, generation records) so a file says which code made it. Bumped
// with each resolved issue.
#ifndef DREAMSHOT_CORE_VERSION_H_
#define DREAMSHOT_CORE_VERSION_H_

namespace dreamshot::core {

inline constexpr char kDreamShotVersion[] = "0.17.0";

}  // namespace dreamshot::core

#endif  // DREAMSHOT_CORE_VERSION_H_
