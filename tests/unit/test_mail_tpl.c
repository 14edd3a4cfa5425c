/*
 * test_mail_tpl.c: mail templates (svc/mail_tpl.h): placeholders checked
 * against the key's variables, and rendering with HTML escaping.
 */
#include <stdlib.h>
#include "t.h"
#include "../../src/svc/mail_tpl.h"

TEST(mail_tpl_check_allows_the_keys_variables_only)
{
	char *m;
	CHECK(mail_tpl_check("Hi {{name}}, {{ code }}", mail_tpl_vars("verify_email")) == NULL);
	CHECK(mail_tpl_check("no placeholders at all", mail_tpl_vars("verify_email")) == NULL);
	m = mail_tpl_check("Hi {{nmae}}", mail_tpl_vars("verify_email"));
	CHECK(m && strstr(m, "{{nmae}}") && strstr(m, "{{code}}"));
	free(m);
	/* a reset link is not a code, and a mailing has no code either */
	m = mail_tpl_check("{{code}}", mail_tpl_vars("password_reset"));
	CHECK(m != NULL);
	free(m);
	m = mail_tpl_check("{{code}}", mail_tpl_vars("campaign"));
	CHECK(m != NULL);
	free(m);
	m = mail_tpl_check("broken {{name", mail_tpl_vars("campaign"));
	CHECK(m && strstr(m, "Malformed"));
	free(m);
	m = mail_tpl_check("{{Name}}", mail_tpl_vars("campaign")); /* names are lower case */
	CHECK(m != NULL);
	free(m);
	CHECK(mail_tpl_is_system("welcome") && !mail_tpl_is_system("promo"));
}

TEST(mail_tpl_render_escapes_html_and_keeps_text)
{
	strbuf_t s, t, h;
	sb_init(&s, 0);
	sb_init(&t, 0);
	sb_init(&h, 0);
	mail_var_t vars[] = { { "name", "<b>Eve</b> & co" }, { "link", "https://x.test/r?a=1&b=2" }, { "code", NULL } };
	mail_tpl_render("Hi {{name}}\r\nBcc: x", "Dear {{name}},\n\nOpen {{link}}\nnow.{{code}} {{missing}}", vars, 3, &s, &t, &h);
	CHECK_STR(s.buf, "Hi <b>Eve</b> & co  Bcc: x"); /* one line: no header injection */
	CHECK_STR(t.buf, "Dear <b>Eve</b> & co,\n\nOpen https://x.test/r?a=1&b=2\nnow. \n");
	CHECK(strstr(h.buf, "Dear &lt;b&gt;Eve&lt;/b&gt; &amp; co,</p><p>Open ") != NULL);
	CHECK(strstr(h.buf, "<a href=\"https://x.test/r?a=1&amp;b=2\">https://x.test/r?a=1&amp;b=2</a>") != NULL);
	CHECK(strstr(h.buf, "<br>now.") != NULL);
	CHECK(strstr(h.buf, "<b>") == NULL);
	sb_release(&s);
	sb_release(&t);
	sb_release(&h);
}

TEST(mail_tpl_links_urls_in_values_only)
{
	strbuf_t s, t, h;
	sb_init(&s, 0);
	sb_init(&t, 0);
	sb_init(&h, 0);
	mail_var_t vars[] = { { "items", "- Cube: get it at https://a.test/d?x=1\"><script> now" } };
	mail_tpl_render("s", "Literal https://b.test stays text\n{{items}}", vars, 1, &s, &t, &h);
	CHECK(strstr(h.buf, "<a href=\"https://a.test/d?x=1\">https://a.test/d?x=1</a>&quot;&gt;&lt;script&gt; now") != NULL);
	CHECK(strstr(h.buf, "Literal https://b.test stays text") != NULL);
	CHECK(strstr(h.buf, "<script>") == NULL);
	sb_release(&s);
	sb_release(&t);
	sb_release(&h);
}
