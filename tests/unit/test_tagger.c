/*
 * test_tagger.c: svc/tagger.h's pure parts: words, the strict reading of a
 * remote answer, colour names, ranking.
 */
#include <stdlib.h>
#include "t.h"
#include "svc/tagger.h"

static bool has(json_t *arr, const char *s)
{
	size_t i;
	json_t *e;
	json_array_foreach(arr, i, e)
		if (!strcmp(json_string_value(e), s))
			return true;
	return false;
}

TEST(tagger_words_split_and_stop)
{
	json_t *w = tagger_words("WoodenChair_seat01 the Mesh.002 OakWood-material chair");
	CHECK(has(w, "wooden") && has(w, "chair") && has(w, "seat") && has(w, "oak") && has(w, "wood"));
	CHECK(!has(w, "the") && !has(w, "mesh") && !has(w, "material") && !has(w, "002") && !has(w, "01"));
	CHECK(json_array_size(w) == 5); /* chair once */
	json_decref(w);
	w = tagger_words(NULL);
	CHECK(json_array_size(w) == 0);
	json_decref(w);
}

TEST(tagger_remote_answer_is_strict)
{
	json_t *l = tagger_parse_remote("[\"Wooden Chair\", \"oak\"]");
	CHECK(l && json_array_size(l) == 2 && has(l, "wooden-chair") && has(l, "oak"));
	json_decref(l);
	l = tagger_parse_remote("```json\n[\"chair\"]\n```");
	CHECK(l && has(l, "chair"));
	json_decref(l);
	CHECK(!tagger_parse_remote("Sure! chair, wood"));
	CHECK(!tagger_parse_remote("Here you go: [\"chair\"]"));
	CHECK(!tagger_parse_remote("[\"chair\", 42]"));
	CHECK(!tagger_parse_remote("[\"chair\", \"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"]"));
	CHECK(!tagger_parse_remote("{\"tags\": [\"chair\"]}"));
	CHECK(!tagger_parse_remote(NULL));
	CHECK(!tagger_parse_remote("[1,2"));
}

TEST(tagger_colours_and_ranking)
{
	unsigned char px[4 * 3] = { 230, 20, 20, 220, 30, 25, 240, 240, 240, 20, 40, 200 };
	json_t *tags = json_object();
	tagger_from_pixels(tags, px, 4);
	tagger_add(tags, "Low Poly!", 0.9, "geometry");
	tagger_add(tags, "x", 0.9, "geometry"); /* too short: dropped */
	json_t *r = tagger_ranked(tags, 10);
	CHECK(json_array_size(r) == 4);
	CHECK_STR(json_string_value(json_object_get(json_array_get(r, 0), "tag")), "low-poly");
	CHECK_STR(json_string_value(json_object_get(json_array_get(r, 1), "tag")), "red");
	CHECK(json_object_get(tags, "white") && json_object_get(tags, "blue"));
	json_decref(r);
	json_decref(tags);
}
