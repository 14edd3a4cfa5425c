/* admin.c: `hwc3d create-admin`, the way the first administrator appears. */
#include "cli.h"
#include "../auth/identity.h"
#include "../auth/password.h"
#include "../core/log.h"
#include "../core/util.h"

/* An admin's username from the address: "Jane.Doe+x@ex.com" -> "jane_doe_x". */
static void username_from_email(const char *email, char out[USERNAME_MAX + 1])
{
	size_t j = 0;
	for (const char *p = email; *p && *p != '@' && j < USERNAME_MAX; p++) {
		char c = *p;
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		out[j++] = ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) ? c : '_';
	}
	while (j < USERNAME_MIN)
		out[j++] = '_';
	out[j] = '\0';
}

int cli_create_admin(int argc, char **argv)
{
	const char *email = NULL, *password = NULL, *username = NULL;
	for (int i = 0; i < argc; i++) {
		const char **dst = !strcmp(argv[i], "--email") ? &email
				 : !strcmp(argv[i], "--password") ? &password
				 : !strcmp(argv[i], "--username") ? &username : NULL;
		if (!dst || i + 1 >= argc) {
			fputs("usage: hwc3d create-admin --email E --password P [--username U]\n", stderr);
			return 2;
		}
		*dst = argv[++i];
	}
	if (!email || !password) {
		fputs("usage: hwc3d create-admin --email E --password P [--username U]\n", stderr);
		return 2;
	}
	char *norm = email_normalize(email);
	if (!email_valid(norm)) {
		fprintf(stderr, "hwc3d: invalid email address: %s\n", email);
		free(norm);
		return 2;
	}
	const char *problem = password_problem(password);
	if (problem) {
		fprintf(stderr, "hwc3d: %s\n", problem);
		free(norm);
		return 2;
	}
	char uname[USERNAME_MAX + 1];
	if (username) {
		if (!username_valid(username)) {
			fprintf(stderr, "hwc3d: username must be 3-30 of a-z, 0-9 and _\n");
			free(norm);
			return 2;
		}
		snprintf(uname, sizeof(uname), "%s", username);
	} else {
		username_from_email(norm, uname);
	}
	char hash[PASSWORD_HASH_LEN];
	if (!password_hash(password, hash)) {
		free(norm);
		return 1;
	}
	db_t *db;
	int rc = cli_open_db(&db);
	if (rc) {
		free(norm);
		return rc;
	}
	int64_t now = now_ms(), id = 0;
	/* An existing account with this address becomes the admin; its
	 * sessions end because its password changes. */
	int found = DBS(db, &id,
		"UPDATE users SET role = 'admin', password_hash = $2, is_email_verified = TRUE,"
		" is_banned = FALSE, tokens_valid_after = $3, token_version = token_version + 1, updated_at = $3"
		" WHERE email_normalized = $1 AND deleted_at IS NULL RETURNING id",
		P_TEXT(norm), P_TEXT(hash), P_INT(now));
	if (found == 0)
		found = DBS(db, &id,
			"INSERT INTO users (email, email_normalized, username, username_lower, password_hash,"
			" full_name, user_type, role, is_email_verified, created_at, updated_at)"
			" VALUES ($1, $1, $2, $2, $3, 'Administrator', 'buyer', 'admin', TRUE, $4, $4) RETURNING id",
			P_TEXT(norm), P_TEXT(uname), P_TEXT(hash), P_INT(now));
	if (found != 1) {
		fprintf(stderr, "hwc3d: cannot create the admin: %s\n",
			db_error(db) == DB_ERR_UNIQUE ? "that username is taken (pass --username)" : db_errmsg(db));
		db_close(db);
		free(norm);
		return 1;
	}
	printf("admin %s (id %lld) is ready\n", norm, (long long)id);
	db_close(db);
	free(norm);
	return 0;
}
