/*
 * test_fingerprint.c: media/fingerprint.h on triangle lists made here: a
 * translated, uniformly scaled, re-ordered copy is the same geometry; an
 * unrelated shape is not; the text and JSON forms round-trip.
 */
#include <math.h>
#include <stdlib.h>
#include <time.h>
#include "t.h"
#include "media/fingerprint.h"
#include "core/util.h"

/* A UV sphere (rings x segs) as triangles, scaled by s and moved by o. */
static float *sphere(int rings, int segs, double s, const double o[3], size_t *ntri)
{
	size_t cap = (size_t)rings * (size_t)segs * 2, n = 0;
	float *t = xmalloc(cap * 9 * sizeof(float));
	for (int i = 0; i < rings; i++)
		for (int j = 0; j < segs; j++) {
			double th0 = M_PI * i / rings, th1 = M_PI * (i + 1) / rings;
			double ph0 = 2 * M_PI * j / segs, ph1 = 2 * M_PI * (j + 1) / segs;
			double p[4][3] = {
				{ sin(th0) * cos(ph0), sin(th0) * sin(ph0), cos(th0) },
				{ sin(th1) * cos(ph0), sin(th1) * sin(ph0), cos(th1) },
				{ sin(th1) * cos(ph1), sin(th1) * sin(ph1), cos(th1) },
				{ sin(th0) * cos(ph1), sin(th0) * sin(ph1), cos(th0) },
			};
			int quads[2][3] = { { 0, 1, 2 }, { 0, 2, 3 } };
			for (int q = 0; q < 2; q++) {
				for (int v = 0; v < 3; v++)
					for (int k = 0; k < 3; k++)
						t[9 * n + 3 * v + k] = (float)(p[quads[q][v]][k] * s + o[k]);
				n++;
			}
		}
	*ntri = n;
	return t;
}

/* A box of w x h x d made of 12 triangles, repeated to n triangles. */
static float *box(double w, double h, double d, size_t *ntri)
{
	static const int f[12][3] = { { 0, 1, 2 }, { 0, 2, 3 }, { 4, 6, 5 }, { 4, 7, 6 }, { 0, 4, 5 }, { 0, 5, 1 },
				      { 1, 5, 6 }, { 1, 6, 2 }, { 2, 6, 7 }, { 2, 7, 3 }, { 3, 7, 4 }, { 3, 4, 0 } };
	double c[8][3] = { { 0, 0, 0 }, { w, 0, 0 }, { w, h, 0 }, { 0, h, 0 },
			   { 0, 0, d }, { w, 0, d }, { w, h, d }, { 0, h, d } };
	float *t = xmalloc(12 * 9 * sizeof(float));
	for (int i = 0; i < 12; i++)
		for (int v = 0; v < 3; v++)
			for (int k = 0; k < 3; k++)
				t[9 * i + 3 * v + k] = (float)c[f[i][v]][k];
	*ntri = 12;
	return t;
}

TEST(fingerprint_survives_translation_scale_and_order)
{
	double o0[3] = { 0, 0, 0 }, o1[3] = { 1000.5, -37, 4 };
	size_t n0, n1;
	float *a = sphere(20, 30, 1, o0, &n0), *b = sphere(20, 30, 123.25, o1, &n1);
	/* another exporter: the triangles in reverse order, corners rotated */
	for (size_t i = 0; i < n1 / 2; i++)
		for (int k = 0; k < 9; k++) {
			float x = b[9 * i + k];
			b[9 * i + k] = b[9 * (n1 - 1 - i) + k];
			b[9 * (n1 - 1 - i) + k] = x;
		}
	fingerprint_t fa, fb;
	CHECK(fingerprint_triangles(a, n0, &fa));
	CHECK(fingerprint_triangles(b, n1, &fb));
	CHECK(fa.triangles == 1200 && fingerprint_key(fa.triangles) == fingerprint_key(fb.triangles));
	CHECK(fingerprint_similarity(&fa, &fb) > 0.99);
	/* a box is not a sphere, nor a long box a cube */
	size_t nb;
	float *c = box(2, 2, 2, &nb), *d = box(10, 1, 1, &nb);
	fingerprint_t fc, fd;
	CHECK(fingerprint_triangles(c, nb, &fc));
	CHECK(fingerprint_triangles(d, nb, &fd));
	CHECK(fingerprint_similarity(&fa, &fc) < FP_DUPLICATE);
	CHECK(fingerprint_similarity(&fc, &fd) < FP_DUPLICATE);
	CHECK(fingerprint_similarity(&fc, &fc) == 1);
	free(a);
	free(b);
	free(c);
	free(d);
}

TEST(fingerprint_skips_nan_and_refuses_nothing)
{
	float t[18] = { 0, 0, 0, 1, 0, 0, 0, 1, 0, NAN, 0, 0, 1, 1, 1, 2, 2, 2 };
	fingerprint_t f;
	CHECK(fingerprint_triangles(t, 2, &f));
	CHECK(f.triangles == 1);
	float flat[9] = { 0, 0, 0, 0, 0, 0, 0, 0, 0 };
	CHECK(!fingerprint_triangles(flat, 1, &f));
	CHECK(!fingerprint_triangles(t, 0, &f));
}

TEST(fingerprint_text_and_json_round_trip)
{
	double o[3] = { 1, 2, 3 };
	size_t n;
	float *a = sphere(8, 12, 2, o, &n);
	fingerprint_t f, g, h;
	CHECK(fingerprint_triangles(a, n, &f));
	char *s = fingerprint_encode(&f);
	CHECK(fingerprint_decode(s, &g));
	CHECK(g.triangles == f.triangles && fingerprint_similarity(&f, &g) > 0.9999);
	json_t *j = fingerprint_json(&f);
	CHECK(fingerprint_from_json(j, &h));
	CHECK(fingerprint_similarity(&f, &h) > 0.9999);
	/* strict: a wrong length, a value out of range, junk */
	CHECK(!fingerprint_decode("12:0000", &g));
	CHECK(!fingerprint_decode(":0000", &g));
	CHECK(!fingerprint_decode("", &g));
	s[strlen(s) - 1] = 'x';
	CHECK(!fingerprint_decode(s, &g));
	json_array_set_new(json_object_get(j, "v"), 0, json_real(7));
	CHECK(!fingerprint_from_json(j, &h));
	json_decref(j);
	free(s);
	free(a);
}

/* Benchmark (printed): a 100k-triangle model's fingerprint, and comparing
 * one against 50,000 stored ones (decode + similarity, as the lookup does
 * after its key prefilter, here without it). */
TEST(fingerprint_bench)
{
	double o[3] = { 0, 0, 0 };
	size_t n;
	float *a = sphere(250, 200, 1, o, &n); /* 100,000 triangles */
	fingerprint_t f, g;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK(fingerprint_triangles(a, n, &f));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double fp_ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	char *s = fingerprint_encode(&f);
	double best = 0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < 50000; i++) {
		CHECK(fingerprint_decode(s, &g));
		double sim = fingerprint_similarity(&f, &g);
		best = sim > best ? sim : best;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double cmp_ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	CHECK(best > 0.999);
	fprintf(stderr, "    fingerprint: %zu triangles in %.1f ms; 50000 decodes + comparisons in %.1f ms\n", n,
		fp_ms, cmp_ms);
	free(s);
	free(a);
}
