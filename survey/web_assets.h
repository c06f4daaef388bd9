// The participant page (survey/web/), compiled in by //survey:web_assets_cc.
#ifndef DREAMSHOT_SURVEY_WEB_ASSETS_H_
#define DREAMSHOT_SURVEY_WEB_ASSETS_H_

namespace dreamshot::survey {

extern const char kIndexHtml[];
extern const char kAppJs[];
extern const char kStyleCss[];

}  // namespace dreamshot::survey

#endif  // DREAMSHOT_SURVEY_WEB_ASSETS_H_
