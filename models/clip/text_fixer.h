// A faithful subset of ftfy 6.1.1's fix_text() with its default
// TextFixerConfig, which transformers' CLIPTokenizer applies to every prompt
// when ftfy is installed (it is, alongside diffusers, in practice).
//
// Implemented, in ftfy's order, repeated per line until nothing changes:
//   unescape_html ("auto": skipped for a line containing '<', and for every
//                  later line once one did), with ftfy's entity table (HTML5
//                  names ending in ';' plus upper-cased forms like &EACUTE;)
//                  and html.unescape's numeric-reference rules;
//   fix_c1_controls      U+0080..U+009F -> sloppy Windows-1252;
//   fix_latin_ligatures  ﬁ -> fi, Ĳ -> IJ, ǆ -> dž, ...;
//   fix_character_width  fullwidth ASCII / halfwidth kana (NFKC of
//                        U+FF01..U+FFEF) and U+3000 -> ' ';
//   uncurl_quotes        U+02BC, U+2018..U+201B -> '  and U+201C..U+201F -> ";
//   fix_line_breaks      \r\n, \r, U+2028, U+2029, U+0085 -> \n;
//   fix_surrogates       lone surrogates -> U+FFFD (UTF-8 input cannot hold
//                        pairs, so there is nothing to join);
//   remove_terminal_escapes  ESC [ digits/';' letter;
//   remove_control_chars U+0000..08, 0B, 0E..1F, 7F, 206A..206F, FEFF,
//                        FFF9..FFFC, 1D173..1D17A, E0000..E007F;
//   normalization="NFC".
// Not implemented: fix_encoding (mojibake repair) and the steps that only run
// inside it (restore_byte_a0, replace_lossy_sequences,
// decode_inconsistent_utf8). They depend on ftfy's "badness" heuristic and
// its per-encoding character tables; they only change text that already
// looks like mis-decoded UTF-8 (e.g. "schÃ¶n"), which prompts typed by people
// do not contain. Such text is tokenised as-is.
#ifndef DREAMSHOT_MODELS_CLIP_TEXT_FIXER_H_
#define DREAMSHOT_MODELS_CLIP_TEXT_FIXER_H_

#include "models/clip/unicode_text.h"

namespace dreamshot::models::clip {

// ftfy.fix_text(text) with the defaults above.
CodePoints FixText(const CodePoints& text);

// Single steps, exposed for tests.
CodePoints UnescapeHtml(const CodePoints& text);
CodePoints FixCharacterWidth(const CodePoints& text);

}  // namespace dreamshot::models::clip

#endif  // DREAMSHOT_MODELS_CLIP_TEXT_FIXER_H_
