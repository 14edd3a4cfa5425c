/*
 * seed_learn.c: demo courses with lessons, and demo bounties posted by the
 * demo buyers with applications from the demo creators (seed-demo), so
 * that /learn and /bounties are not empty on a fresh install.
 */
#include "cli.h"
#include "../core/log.h"
#include "../core/util.h"

#define DAY_MS (24LL * 3600 * 1000)

static const struct {
	const char *title, *description, *difficulty, *category, *instructor;
	const char *lessons[5];
} demo_courses[] = {
	{ "Blender Basics: Your First Model", "Navigate the viewport, shape a mesh and export a GLB ready for the marketplace.",
	  "beginner", "modeling", "Aria Nova",
	  { "The interface and navigation", "Edit mode: vertices, edges, faces", "Modifiers you will use every day",
	    "Clean topology", "Exporting to GLB" } },
	{ "Hard-Surface Modeling for Games", "Bevels, supporting loops and smoothing groups for props that read well in engine.",
	  "intermediate", "game-assets", "Kenji Forge",
	  { "Blocking out the silhouette", "Supporting edge loops", "Weighted normals", "Polycount budgets", NULL } },
	{ "PBR Texturing Fundamentals", "Albedo, roughness, metalness and normal maps: what each one does and how to paint them.",
	  "beginner", "texturing", "Mira Polygon",
	  { "What PBR means", "UV unwrapping without tears", "Baking normal maps", "Texel density", NULL } },
	{ "Character Rigging in Depth", "Deform bones, IK chains and weight painting for characters that animate cleanly.",
	  "advanced", "rigging", "Leo Voxel",
	  { "Bone hierarchies", "Inverse kinematics", "Weight painting", "Corrective shape keys", "Testing the rig" } },
	{ "Selling Your 3D Models", "Thumbnails, pricing, licences and descriptions that help buyers choose your work.",
	  "beginner", "business", "Aria Nova",
	  { "Presenting a model", "Pricing for your market", "Licences in plain words", NULL, NULL } },
};

int seed_courses(db_t *db)
{
	int64_t now = now_ms();
	if (!db_begin(db))
		return -1;
	for (size_t i = 0; i < ARRAY_LEN(demo_courses); i++) {
		int64_t id = 0, t = now - (int64_t)(ARRAY_LEN(demo_courses) - i) * DAY_MS;
		if (DBS(db, &id,
			"INSERT INTO courses (title, description, difficulty, category, instructor, is_published,"
			" created_at, updated_at) VALUES ($1, $2, $3, $4, $5, TRUE, $6, $6) RETURNING id",
			P_TEXT(demo_courses[i].title), P_TEXT(demo_courses[i].description),
			P_TEXT(demo_courses[i].difficulty), P_TEXT(demo_courses[i].category),
			P_TEXT(demo_courses[i].instructor), P_INT(t)) != 1)
			goto fail;
		for (int k = 0; k < 5 && demo_courses[i].lessons[k]; k++) {
			const char *title = demo_courses[i].lessons[k];
			char content[512];
			snprintf(content, sizeof(content),
				 "%s.\n\nWork through the steps in your own scene, then compare with the reference "
				 "file. Take notes of what surprised you: the next lesson builds on it.", title);
			if (DBX(db, "INSERT INTO course_lessons (course_id, title, content, duration_minutes, position,"
				    " created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6)",
				P_INT(id), P_TEXT(title), P_TEXT(content), P_INT(8 + (k * 7) % 15), P_INT(k), P_INT(t)) != 1)
				goto fail;
		}
	}
	if (!db_commit(db))
		goto fail;
	log_info("seeded %zu courses", ARRAY_LEN(demo_courses));
	return 0;
fail:
	db_rollback(db);
	return -1;
}

static const struct {
	const char *owner, *title, *description, *category;
	int64_t budget_cents, days;
	const char *applicants[2];
} demo_bounties[] = {
	{ "sam_buyer", "Low-poly medieval tavern interior",
	  "A cosy tavern interior for a mobile game: bar, tables, stools and a fireplace. Under 15k triangles, "
	  "one texture atlas.", "architecture", 25000, 21, { "aria_nova", "kenji_forge" } },
	{ "alex_chen", "Stylised delivery drone",
	  "A cute quad-copter drone with a parcel hook, rigged propellers and a hover animation.", "sci-fi", 12000,
	  14, { "leo_voxel", NULL } },
	{ "sam_buyer", "Scandinavian armchair, PBR",
	  "A realistic armchair in oak and wool for architectural renders, 4K PBR textures.", "furniture", 8000, 30,
	  { "mira_polygon", NULL } },
	{ "alex_chen", "Fantasy sword set (3 variants)",
	  "Three one-handed swords sharing a hilt style, game-ready, with LODs.", "fantasy", 15000, 45, { NULL, NULL } },
};

static int64_t user_id(db_t *db, const char *username)
{
	int64_t id = 0;
	return DBS(db, &id, "SELECT id FROM users WHERE username_lower = $1", P_TEXT(username)) == 1 ? id : 0;
}

int seed_bounties(db_t *db)
{
	int64_t now = now_ms();
	if (!db_begin(db))
		return -1;
	size_t n = 0;
	for (size_t i = 0; i < ARRAY_LEN(demo_bounties); i++) {
		int64_t owner = user_id(db, demo_bounties[i].owner), id = 0, t = now - (int64_t)(i + 1) * DAY_MS;
		if (!owner)
			continue;
		if (DBS(db, &id,
			"INSERT INTO bounties (owner_id, title, search_text, description, category, budget_cents, deadline,"
			" created_at, updated_at)"
			" VALUES ($1, $2, lower(CAST($2 AS TEXT) || ' ' || CAST($3 AS TEXT)), $3, $4, $5, $6, $7, $7)"
			" RETURNING id",
			P_INT(owner), P_TEXT(demo_bounties[i].title), P_TEXT(demo_bounties[i].description),
			P_TEXT(demo_bounties[i].category), P_INT(demo_bounties[i].budget_cents),
			P_INT(now + demo_bounties[i].days * DAY_MS), P_INT(t)) != 1)
			goto fail;
		n++;
		for (int k = 0; k < 2 && demo_bounties[i].applicants[k]; k++) {
			int64_t creator = user_id(db, demo_bounties[i].applicants[k]);
			if (!creator)
				continue;
			if (DBX(db, "INSERT INTO bounty_applications (bounty_id, creator_id, message, proposed_price_cents,"
				    " proposed_days, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6)",
				P_INT(id), P_INT(creator),
				P_TEXT("I would love to take this on: see my models for similar work."),
				P_INT(demo_bounties[i].budget_cents - 1000 * k), P_INT(demo_bounties[i].days - 3),
				P_INT(t + 3600000)) != 1 ||
			    DBX(db, "UPDATE bounties SET applications_count = applications_count + 1 WHERE id = $1",
				P_INT(id)) != 1)
				goto fail;
		}
	}
	if (!db_commit(db))
		goto fail;
	log_info("seeded %zu bounties", n);
	return 0;
fail:
	db_rollback(db);
	return -1;
}
