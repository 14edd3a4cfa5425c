/*
 * tagger.h: tags and a category for a model from what the platform
 * measured (issue 13, point 6; POST /api/ai/generate-tags in
 * src/api/ai.c).
 *
 * The built-in tagger scores candidate tags from four sources:
 *   names       node, mesh and material names of the analysis, split into
 *               words (camelCase, snake_case, digits), stop words and
 *               modelling jargon removed
 *   geometry    low-poly / high-poly (triangle count), rigged, animated,
 *               pbr (metalness/roughness/normal maps), textured
 *   colour      the dominant colours of the thumbnail (tagger_colours)
 *   vocabulary  words of the title and description that are tags already
 *               used on the platform (and, weaker, the other title words)
 * and an optional remote model (AI_TAGS_URL, an OpenAI-compatible chat
 * completions endpoint; AI_TAGS_KEY, AI_TAGS_MODEL, AI_TAGS_TIMEOUT_S
 * default 10): its answer must be a JSON array of short strings, anything
 * else is ignored.  Every tag is lower case, 2-30 characters of [a-z0-9-].
 *
 * A tag list is a JSON object tag -> {score, source}; tagger_ranked turns
 * it into the answer's [{tag, score, source}], best first.  Thread safe.
 */
#ifndef HWC_TAGGER_H
#define HWC_TAGGER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* Adds (or raises) tag with score from source. */
void tagger_add(json_t *tags, const char *tag, double score, const char *source);

/* The words of free text, lower case, stop words removed (array of
 * strings, each once). */
json_t *tagger_words(const char *text);

void tagger_from_analysis(json_t *tags, json_t *analysis);
/* Words of title/description: those in vocab (array of existing tags) as
 * "vocabulary", the rest of the title's as "title". */
void tagger_from_text(json_t *tags, const char *title, const char *description, json_t *vocab);
/* Colour names of rgb (n pixels, 3 bytes each), the most frequent first;
 * adds those covering at least 15 % of the pixels. */
void tagger_from_pixels(json_t *tags, const unsigned char *rgb, size_t n);

/* The dominant colours of the stored image at path (JPEG, PNG, WebP): the
 * image is shrunk in the sandboxed image child first, only its 16-pixel
 * result is read here.  False with err when it cannot. */
bool tagger_colours(json_t *tags, const char *path, const char *format, char *err, size_t errlen);

/* Asks AI_TAGS_URL (when set; false otherwise, or on any failure, with a
 * reason in err): adds up to 15 valid tags as "ai".  Blocks up to
 * AI_TAGS_TIMEOUT_S: call it on the worker pool. */
bool tagger_remote(json_t *tags, json_t *analysis, const char *title, const char *description, char *err,
		   size_t errlen);
bool tagger_remote_configured(void);

/* Validates a remote answer's content: a JSON array of strings (at most
 * 50), each made a tag; NULL when it is anything else. */
json_t *tagger_parse_remote(const char *content);

/* [{tag, score, source}] best first (ties by name), at most max. */
json_t *tagger_ranked(json_t *tags, size_t max);

#endif
