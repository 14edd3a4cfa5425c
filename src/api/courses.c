/*
 * courses.c: the learning center (guide section 11, and the admin's side
 * of section 13): published courses with their lessons, enrollment, lesson
 * progress, the caller's courses; admins write courses and lessons.
 *
 * Who sees what: a draft (is_published false) exists for admins only (404
 * for everyone else, enrolled or not).  A published course's lesson list
 * (titles, durations, order) is public; a lesson's body (content,
 * video_url) is for enrolled users and admins.
 *
 * Enrolling is idempotent: 201 the first time, 200 after, counted once
 * (enrolled_count moves in the enrollment's transaction).  Completing a
 * lesson is idempotent too, for enrolled users only (403 otherwise); a
 * lesson of another course is 404.  Progress is completed lessons over the
 * course's lessons now, percent rounded down (0 for a course with none).
 */
#include "api.h"
#include "../svc/audit.h"
#include "crud.h"
#include "paged.h"
#include "../core/util.h"
#include "../http/reply.h"
#include "../http/request.h"
#include "../http/validate.h"

static const char *const difficulties[] = { "beginner", "intermediate", "advanced", NULL };
static const char *const course_categories[] = {
	"modeling", "sculpting", "texturing", "animation", "rigging", "lighting", "rendering", "game-assets",
	"3d-printing", "business", "other", NULL,
};

static int64_t viewer_id(req_t *req)
{
	return req->user ? req->user->id : 0;
}

static bool viewer_admin(req_t *req)
{
	return req->user && req->user->is_admin;
}

/* ========================================================== documents */

/* $1 is the viewer (0: anonymous) in every query that selects these. */
#define COURSE_COLUMNS(FIRST, NEXT) \
	FIRST(CO_ID, "c.id") \
	NEXT(CO_TITLE, "c.title") \
	NEXT(CO_DESCRIPTION, "c.description") \
	NEXT(CO_DIFFICULTY, "c.difficulty") \
	NEXT(CO_CATEGORY, "c.category") \
	NEXT(CO_THUMBNAIL_URL, "c.thumbnail_url") \
	NEXT(CO_INSTRUCTOR, "c.instructor") \
	NEXT(CO_IS_PUBLISHED, "c.is_published") \
	NEXT(CO_ENROLLED_COUNT, "c.enrolled_count") \
	NEXT(CO_CREATED_AT, "c.created_at") \
	NEXT(CO_UPDATED_AT, "c.updated_at") \
	NEXT(CO_LESSONS, "(SELECT COUNT(*) FROM course_lessons l WHERE l.course_id = c.id)") \
	NEXT(CO_MINUTES, "(SELECT COALESCE(SUM(l.duration_minutes), 0) FROM course_lessons l WHERE l.course_id = c.id)") \
	NEXT(CO_ENROLLED_AT, "e.enrolled_at") \
	NEXT(CO_LAST_ACTIVITY, "e.last_activity_at") \
	NEXT(CO_DONE, "(SELECT COUNT(*) FROM lesson_completions lc JOIN course_lessons l ON l.id = lc.lesson_id" \
		      " WHERE lc.course_id = c.id AND lc.user_id = $1)") \
	NEXT(CO_LAST_LESSON_ID, "ll.id") \
	NEXT(CO_LAST_LESSON_TITLE, "ll.title")
#define COURSE_COLS COURSE_COLUMNS(DB_COL_SQL, DB_COL_SQL_NEXT)
enum course_col { COURSE_COLUMNS(DB_COL_ENUM, DB_COL_ENUM) CO_COUNT };
#define COURSE_FROM " FROM courses c" \
	" LEFT JOIN course_enrollments e ON e.course_id = c.id AND e.user_id = $1" \
	" LEFT JOIN course_lessons ll ON ll.id = e.last_lesson_id"

static json_t *progress_json(db_rows_t *r)
{
	int64_t total = db_int(r, CO_LESSONS), done = db_int(r, CO_DONE);
	json_t *o = json_pack("{s:I, s:I, s:I, s:o, s:o}", "completed_lessons", (json_int_t)done,
		"total_lessons", (json_int_t)total, "percent", (json_int_t)(total ? done * 100 / total : 0),
		"enrolled_at", json_time(db_int(r, CO_ENROLLED_AT)),
		"last_activity_at", json_time(db_int(r, CO_LAST_ACTIVITY)));
	json_object_set_new(o, "last_lesson", db_isnull(r, CO_LAST_LESSON_ID) ? json_null()
		: json_pack("{s:I, s:s}", "id", (json_int_t)db_int(r, CO_LAST_LESSON_ID), "title",
			    db_text(r, CO_LAST_LESSON_TITLE)));
	return o;
}

/* The course; with a viewer, is_enrolled and (enrolled) progress. */
static json_t *course_doc(req_t *req, db_rows_t *r)
{
	json_t *o = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s?, s:s, s:b, s:I, s:I, s:I, s:o, s:o}",
		"id", (json_int_t)db_int(r, CO_ID), "title", db_text(r, CO_TITLE),
		"description", db_text(r, CO_DESCRIPTION), "difficulty", db_text(r, CO_DIFFICULTY),
		"category", db_text(r, CO_CATEGORY), "thumbnail_url", db_text(r, CO_THUMBNAIL_URL),
		"instructor", db_text(r, CO_INSTRUCTOR), "is_published", db_bool(r, CO_IS_PUBLISHED),
		"enrolled_count", (json_int_t)db_int(r, CO_ENROLLED_COUNT),
		"lessons_count", (json_int_t)db_int(r, CO_LESSONS),
		"duration_minutes", (json_int_t)db_int(r, CO_MINUTES),
		"created_at", json_time(db_int(r, CO_CREATED_AT)), "updated_at", json_time(db_int(r, CO_UPDATED_AT)));
	if (req && req->user) {
		bool enrolled = !db_isnull(r, CO_ENROLLED_AT);
		json_object_set_new(o, "is_enrolled", json_boolean(enrolled));
		json_object_set_new(o, "progress", enrolled ? progress_json(r) : json_null());
	}
	return o;
}

static json_t *courses_rows(req_t *req, db_rows_t *r, const void *ctx)
{
	UNUSED(ctx);
	return rows_to_array_req(req, r, course_doc);
}

/* ============================================================ lookups */

struct course_ref {
	int64_t id;
	bool published, enrolled;
};

/* The course as the caller may see it (a draft: admins only), or 404
 * (replied, false).  Released before returning. */
static bool course_find_or_404(req_t *req, int64_t id, struct course_ref *c)
{
	db_rows_t *r = DBQ(req->db, "SELECT c.is_published, EXISTS (SELECT 1 FROM course_enrollments e"
				    " WHERE e.course_id = c.id AND e.user_id = $2) FROM courses c WHERE c.id = $1",
			   P_INT(id), P_INT(viewer_id(req)));
	if (!r) {
		reply_db_error(req, "find course");
		return false;
	}
	bool found = db_next(r);
	if (found) {
		c->id = id;
		c->published = db_bool(r, 0);
		c->enrolled = db_bool(r, 1);
	}
	bool failed = db_failed(r);
	db_done(r);
	if (failed) {
		reply_db_error(req, "find course");
		return false;
	}
	if (found && !c->published && !viewer_admin(req))
		found = false;
	if (!found)
		reply_error(req, ERR_NOT_FOUND, "Course not found");
	return found;
}

/* ============================================================= detail */

static json_t *lesson_list(req_t *req, int64_t course_id, bool bodies)
{
	db_rows_t *r = RQ(req,
		"SELECT l.id, l.title, l.duration_minutes, l.position, l.content, l.video_url,"
		" EXISTS (SELECT 1 FROM lesson_completions lc WHERE lc.lesson_id = l.id AND lc.user_id = $2)"
		" FROM course_lessons l WHERE l.course_id = $1 ORDER BY l.position, l.id",
		P_INT(course_id), P_INT(viewer_id(req)));
	if (!r)
		return NULL;
	json_t *a = json_array();
	while (db_next(r)) {
		json_t *o = json_pack("{s:I, s:s, s:I, s:I}", "id", (json_int_t)db_int(r, 0), "title", db_text(r, 1),
				      "duration_minutes", (json_int_t)db_int(r, 2), "position", (json_int_t)db_int(r, 3));
		if (bodies) {
			json_object_set_new(o, "content", json_string(db_text(r, 4)));
			json_object_set_new(o, "video_url", db_isnull(r, 5) ? json_null() : json_string(db_text(r, 5)));
		}
		if (req->user)
			json_object_set_new(o, "is_completed", json_boolean(db_bool(r, 6)));
		json_array_append_new(a, o);
	}
	if (db_failed(r)) {
		json_decref(a);
		return NULL;
	}
	return a;
}

static int reply_course(req_t *req, int status, int64_t id)
{
	db_rows_t *r = RQ(req, "SELECT " COURSE_COLS COURSE_FROM " WHERE c.id = $2", P_INT(viewer_id(req)), P_INT(id));
	if (!r)
		return reply_db_error(req, "read course");
	if (!db_next(r))
		return db_failed(r) ? reply_db_error(req, "read course") : reply_error(req, ERR_NOT_FOUND, "Course not found");
	json_t *o = course_doc(req, r);
	bool enrolled = !db_isnull(r, CO_ENROLLED_AT);
	db_done(r);
	json_t *lessons = lesson_list(req, id, enrolled || viewer_admin(req));
	if (!lessons) {
		json_decref(o);
		return reply_db_error(req, "read lessons");
	}
	json_object_set_new(o, "lessons", lessons);
	return reply_json(req, status, o);
}

static int courses_get(req_t *req)
{
	struct course_ref c;
	if (!course_find_or_404(req, req_param_int(req, "id"), &c))
		return DONE;
	return reply_course(req, 200, c.id);
}

/* =============================================================== list */

enum list_mode { LIST_PUBLIC, LIST_MINE, LIST_ADMIN };

static int courses_page(req_t *req, enum list_mode mode)
{
	valid_t v;
	page_t p;
	paged_begin(&v, req, &p);
	static const char *const sorts[] = { "newest", "popular", "title", NULL };
	const char *difficulty = q_enum(&v, "difficulty", difficulties, NULL);
	const char *category = q_enum(&v, "category", course_categories, NULL);
	const char *search = q_str(&v, "search", 100);
	const char *sort = q_enum(&v, "sort", sorts, mode == LIST_MINE ? NULL : "newest");
	int published = -1;
	if (mode == LIST_ADMIN)
		q_bool(&v, "is_published", &published);
	if (!v_ok(&v))
		return v_reply(&v);
	const char *like = search && *search ? like_contains(req->arena, utf8_lower(req->arena, search)) : NULL;
	/* public: published; mine: enrolled (published); admin: all, or by
	 * is_published */
#define LIST_WHERE COURSE_FROM \
	" WHERE (($2 = 0 AND c.is_published = TRUE)" \
	"     OR ($2 = 1 AND c.is_published = TRUE AND e.user_id IS NOT NULL)" \
	"     OR ($2 = 2 AND ($6 < 0 OR c.is_published = ($6 = 1))))" \
	" AND (CAST($3 AS TEXT) IS NULL OR c.difficulty = $3)" \
	" AND (CAST($4 AS TEXT) IS NULL OR c.category = $4)" \
	" AND (CAST($5 AS TEXT) IS NULL OR lower(c.title) LIKE CAST($5 AS TEXT) ESCAPE '\\'" \
	"      OR lower(c.description) LIKE CAST($5 AS TEXT) ESCAPE '\\')"
#define LIST_SELECT "SELECT " COURSE_COLS LIST_WHERE
	const char *rows_sql = !sort ? LIST_SELECT " ORDER BY e.last_activity_at DESC, c.id DESC"
			       : !strcmp(sort, "popular") ? LIST_SELECT " ORDER BY c.enrolled_count DESC, c.id DESC"
			       : !strcmp(sort, "title") ? LIST_SELECT " ORDER BY lower(c.title), c.id"
							: LIST_SELECT " ORDER BY c.created_at DESC, c.id DESC";
	db_param_t filters[] = { P_INT(viewer_id(req)), P_INT(mode), P_TEXT(difficulty), P_TEXT(category), P_TEXT(like),
				 P_INT(published) };
	paged_t q = {
		.what = "list courses",
		.count_sql = "SELECT COUNT(*)" LIST_WHERE,
		.rows_sql = rows_sql,
		.params = filters, .nparams = 6,
		.rows = courses_rows,
	};
#undef LIST_SELECT
#undef LIST_WHERE
	return paged_reply(req, &p, &q);
}

static int courses_list(req_t *req)
{
	return courses_page(req, LIST_PUBLIC);
}

static int users_me_courses(req_t *req)
{
	return courses_page(req, LIST_MINE);
}

static int admin_courses_list(req_t *req)
{
	return courses_page(req, LIST_ADMIN);
}

/* ========================================================== enrolling */

static int courses_enroll(req_t *req)
{
	struct course_ref c;
	if (!course_find_or_404(req, req_param_int(req, "id"), &c))
		return DONE;
	if (!c.published)
		return reply_error(req, ERR_CONFLICT, "A draft course cannot be enrolled in");
	if (c.enrolled)
		return reply_course(req, 200, c.id);
	int64_t now = now_ms();
	if (!db_begin(req->db))
		return reply_db_error(req, "begin");
	int64_t added = DBX(req->db, "INSERT INTO course_enrollments (course_id, user_id, enrolled_at, last_activity_at)"
				     " VALUES ($1, $2, $3, $3) ON CONFLICT DO NOTHING",
			    P_INT(c.id), P_INT(req->user->id), P_INT(now));
	bool ok = added >= 0;
	if (ok && added)
		ok = DBX(req->db, "UPDATE courses SET enrolled_count = enrolled_count + 1 WHERE id = $1", P_INT(c.id)) == 1;
	if (!ok || !db_commit(req->db)) {
		db_rollback(req->db);
		return reply_db_error(req, "enroll");
	}
	return reply_course(req, added ? 201 : 200, c.id);
}

static int lessons_complete(req_t *req)
{
	struct course_ref c;
	if (!course_find_or_404(req, req_param_int(req, "id"), &c))
		return DONE;
	int64_t lesson = req_param_int(req, "lesson_id"), n = 0;
	if (DBS(req->db, &n, "SELECT COUNT(*) FROM course_lessons WHERE id = $1 AND course_id = $2", P_INT(lesson),
		P_INT(c.id)) != 1)
		return reply_db_error(req, "find lesson");
	if (!n)
		return reply_error(req, ERR_NOT_FOUND, "Lesson not found");
	if (!c.enrolled)
		return reply_error(req, ERR_FORBIDDEN, "Enroll in the course first");
	int64_t now = now_ms();
	if (!db_begin(req->db))
		return reply_db_error(req, "begin");
	bool ok = DBX(req->db, "INSERT INTO lesson_completions (lesson_id, user_id, course_id, completed_at)"
			       " VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
		      P_INT(lesson), P_INT(req->user->id), P_INT(c.id), P_INT(now)) >= 0;
	ok = ok && DBX(req->db, "UPDATE course_enrollments SET last_lesson_id = $3, last_activity_at = $4"
				" WHERE course_id = $1 AND user_id = $2",
		       P_INT(c.id), P_INT(req->user->id), P_INT(lesson), P_INT(now)) == 1;
	if (!ok || !db_commit(req->db)) {
		db_rollback(req->db);
		return reply_db_error(req, "complete lesson");
	}
	db_rows_t *r = RQ(req, "SELECT " COURSE_COLS COURSE_FROM " WHERE c.id = $2", P_INT(req->user->id), P_INT(c.id));
	if (!r || !db_next(r))
		return reply_db_error(req, "read progress");
	return reply_ok(req, json_pack("{s:I, s:I, s:b, s:o}", "course_id", (json_int_t)c.id, "lesson_id",
				       (json_int_t)lesson, "is_completed", 1, "progress", progress_json(r)));
}

/* ============================================================== admin */

static const char *check_http_url(req_t *req, const char *s)
{
	UNUSED(req);
	return url_is_http(s) || url_is_local_path(s) ? NULL : "Must be an http(s) URL or a path on this site";
}

enum { F_TITLE, F_DESCRIPTION, F_DIFFICULTY, F_CATEGORY, F_THUMBNAIL_URL, F_INSTRUCTOR, F_IS_PUBLISHED, F_FIELDS };

static const upd_field_t course_fields[F_FIELDS] = {
	[F_TITLE] = { .name = "title", .kind = UPD_TEXT, .flags = V_REQUIRED, .min = 3, .max = 120 },
	[F_DESCRIPTION] = { .name = "description", .kind = UPD_TEXT, .flags = V_NULLABLE | V_MULTILINE, .min = 0,
			    .max = 5000, .def_text = "" },
	[F_DIFFICULTY] = { .name = "difficulty", .kind = UPD_ENUM, .allowed = difficulties, .def_text = "beginner" },
	[F_CATEGORY] = { .name = "category", .kind = UPD_ENUM, .allowed = course_categories, .def_text = "modeling" },
	[F_THUMBNAIL_URL] = { .name = "thumbnail_url", .kind = UPD_TEXT, .flags = V_NULLABLE, .min = 1,
			      .max = URL_MAX_CHARS, .check = check_http_url },
	[F_INSTRUCTOR] = { .name = "instructor", .kind = UPD_TEXT, .flags = V_NULLABLE, .min = 0, .max = 100, .def_text = "" },
	[F_IS_PUBLISHED] = { .name = "is_published", .kind = UPD_BOOL },
};

/* The admin's row: the course as an anonymous reader sees its fields. */
static json_t *course_row(db_rows_t *r)
{
	return course_doc(NULL, r);
}

static const crud_t courses = {
	.table = "courses", .fields = course_fields, .nfields = F_FIELDS, .noun = "Course",
	/* no viewer: $1 is the course (COURSE_COLS' $1 reads no enrollment) */
	.select_one = "SELECT " COURSE_COLS " FROM courses c LEFT JOIN course_enrollments e ON 1 = 0"
		      " LEFT JOIN course_lessons ll ON 1 = 0 WHERE c.id = $1",
	.row = course_row, .area = CACHE_HOME,
};

static int admin_courses_create(req_t *req)
{
	return crud_create(req, &courses);
}

static int admin_courses_update(req_t *req)
{
	return crud_update(req, &courses);
}

static int admin_courses_delete(req_t *req)
{
	return crud_delete(req, &courses);
}

enum { L_TITLE, L_CONTENT, L_VIDEO_URL, L_DURATION, L_POSITION, L_COURSE_ID, L_FIELDS };

static const upd_field_t lesson_fields[L_FIELDS] = {
	[L_TITLE] = { .name = "title", .kind = UPD_TEXT, .flags = V_REQUIRED, .min = 1, .max = 120 },
	[L_CONTENT] = { .name = "content", .kind = UPD_TEXT, .flags = V_NULLABLE | V_MULTILINE, .min = 0, .max = 50000,
			.def_text = "" },
	[L_VIDEO_URL] = { .name = "video_url", .kind = UPD_TEXT, .flags = V_NULLABLE, .min = 1, .max = URL_MAX_CHARS,
			  .check = check_http_url },
	[L_DURATION] = { .name = "duration_minutes", .kind = UPD_INT, .min = 0, .max = 10000 },
	[L_POSITION] = { .name = "position", .kind = UPD_INT, .min = 0, .max = 100000 },
	[L_COURSE_ID] = { .name = NULL, .column = "course_id", .kind = UPD_HANDLER },
};

static int reply_lesson(req_t *req, int status, int64_t id)
{
	db_rows_t *r = RQ(req, "SELECT id, course_id, title, content, video_url, duration_minutes, position, created_at,"
			       " updated_at FROM course_lessons WHERE id = $1", P_INT(id));
	if (!r)
		return reply_db_error(req, "read lesson");
	if (!db_next(r))
		return db_failed(r) ? reply_db_error(req, "read lesson") : reply_error(req, ERR_NOT_FOUND, "Lesson not found");
	return reply_json(req, status, json_pack("{s:I, s:I, s:s, s:s, s:s?, s:I, s:I, s:o, s:o}",
		"id", (json_int_t)db_int(r, 0), "course_id", (json_int_t)db_int(r, 1), "title", db_text(r, 2),
		"content", db_text(r, 3), "video_url", db_text(r, 4), "duration_minutes", (json_int_t)db_int(r, 5),
		"position", (json_int_t)db_int(r, 6), "created_at", json_time(db_int(r, 7)),
		"updated_at", json_time(db_int(r, 8))));
}

static int admin_lessons_create(req_t *req)
{
	int64_t course = req_param_int(req, "id"), n = 0;
	if (DBS(req->db, &n, "SELECT COUNT(*) FROM courses WHERE id = $1", P_INT(course)) != 1)
		return reply_db_error(req, "find course");
	if (!n)
		return reply_error(req, ERR_NOT_FOUND, "Course not found");
	valid_t v;
	v_init(&v, req, req_body(req));
	upd_value_t *in = upd_values(req, L_FIELDS);
	if (!upd_read(&v, lesson_fields, L_FIELDS, true, in))
		return v_reply(&v);
	upd_put(&in[L_COURSE_ID], P_INT(course));
	if (!in[L_POSITION].set) { /* after the last one */
		int64_t next = 0;
		if (DBS(req->db, &next, "SELECT COALESCE(MAX(position) + 1, 0) FROM course_lessons WHERE course_id = $1",
			P_INT(course)) != 1)
			return reply_db_error(req, "next lesson position");
		upd_put(&in[L_POSITION], P_INT(next));
	}
	int64_t id = 0;
	if (upd_insert(req, "course_lessons", lesson_fields, L_FIELDS, in, &id) != 1)
		return reply_db_error(req, "create lesson");
	audit_log(req->db, req, "lesson.create", "lesson", id, json_pack("{s:I}", "course_id", (json_int_t)course));
	return reply_lesson(req, 201, id);
}

/* The lesson of the route's course, or 404 (replied, false). */
static bool lesson_of_course(req_t *req, int64_t *lesson)
{
	int64_t n = 0;
	*lesson = req_param_int(req, "lesson_id");
	if (DBS(req->db, &n, "SELECT COUNT(*) FROM course_lessons WHERE id = $1 AND course_id = $2", P_INT(*lesson),
		P_INT(req_param_int(req, "id"))) != 1) {
		reply_db_error(req, "find lesson");
		return false;
	}
	if (!n)
		reply_error(req, ERR_NOT_FOUND, "Lesson not found");
	return n != 0;
}

static int admin_lessons_update(req_t *req)
{
	int64_t lesson;
	if (!lesson_of_course(req, &lesson))
		return DONE;
	valid_t v;
	v_init(&v, req, req_body(req));
	upd_value_t *in = upd_values(req, L_FIELDS);
	if (!upd_read(&v, lesson_fields, L_FIELDS, false, in))
		return v_reply(&v);
	if (upd_update(req, "course_lessons", lesson_fields, L_FIELDS, in, lesson) < 0)
		return reply_db_error(req, "update lesson");
	audit_log(req->db, req, "lesson.update", "lesson", lesson, NULL);
	return reply_lesson(req, 200, lesson);
}

static int admin_lessons_delete(req_t *req)
{
	int64_t lesson;
	if (!lesson_of_course(req, &lesson))
		return DONE;
	if (DBX(req->db, "DELETE FROM course_lessons WHERE id = $1", P_INT(lesson)) < 0)
		return reply_db_error(req, "delete lesson");
	audit_log(req->db, req, "lesson.delete", "lesson", lesson, NULL);
	return reply_ok(req, json_pack("{s:s, s:I}", "message", "Lesson deleted", "id", (json_int_t)lesson));
}

const route_t course_routes[] = {
	{ M_GET, "/api/courses", courses_list, ACCESS_OPTIONAL, RL_GENERAL, BODY_NONE, 0, 0, "Published courses: difficulty, category, search, paged" },
	{ M_GET, "/api/courses/{id:int}", courses_get, ACCESS_OPTIONAL, RL_GENERAL, BODY_NONE, 0, 0, "A course with its lessons" },
	{ M_POST, "/api/courses/{id:int}/enroll", courses_enroll, ACCESS_USER, RL_GENERAL, BODY_NONE, 0, 0, "Enroll (idempotent)" },
	{ M_POST, "/api/courses/{id:int}/lessons/{lesson_id:int}/complete", lessons_complete, ACCESS_USER, RL_GENERAL, BODY_NONE, 0, 0, "Mark a lesson complete (enrolled)" },
	{ M_GET, "/api/users/me/courses", users_me_courses, ACCESS_USER, RL_GENERAL, BODY_NONE, 0, 0, "The caller's courses with progress" },
	{ M_GET, "/api/admin/courses", admin_courses_list, ACCESS_ADMIN, RL_ADMIN, BODY_NONE, 0, 0, "Every course, drafts too" },
	{ M_POST, "/api/admin/courses", admin_courses_create, ACCESS_ADMIN, RL_ADMIN, BODY_JSON, 0, 0, "Create a course" },
	{ M_PUT, "/api/admin/courses/{id:int}", admin_courses_update, ACCESS_ADMIN, RL_ADMIN, BODY_JSON, 0, 0, "Update a course" },
	{ M_DELETE, "/api/admin/courses/{id:int}", admin_courses_delete, ACCESS_ADMIN, RL_ADMIN, BODY_NONE, 0, 0, "Delete a course" },
	{ M_POST, "/api/admin/courses/{id:int}/lessons", admin_lessons_create, ACCESS_ADMIN, RL_ADMIN, BODY_JSON, 0, 0, "Add a lesson" },
	{ M_PUT, "/api/admin/courses/{id:int}/lessons/{lesson_id:int}", admin_lessons_update, ACCESS_ADMIN, RL_ADMIN, BODY_JSON, 0, 0, "Update a lesson" },
	{ M_DELETE, "/api/admin/courses/{id:int}/lessons/{lesson_id:int}", admin_lessons_delete, ACCESS_ADMIN, RL_ADMIN, BODY_NONE, 0, 0, "Delete a lesson" },
};
EXPORT_ROUTES(course_routes);
