/*
 * cdp-run - drives a headless Chromium through the DevTools protocol on a
 * pipe (--remote-debugging-pipe: JSON messages ending in NUL on fds 3 and
 * 4), so that the viewer's browser test needs only Debian packages: no
 * node, no Python, no npm.  Test code, not a tool: built by `make check`
 * into build/tests/cdp-run.
 *
 *   cdp-run BROWSER URL < SCRIPT
 *
 * opens URL in a 1400 x 1000 page, waits for its load event, then runs
 * SCRIPT, one command a line, printing one line per command:
 *
 *   eval EXPR        the value of the JavaScript expression, as JSON
 *                    ("ERROR ..." if it throws)
 *   click SELECTOR   scrolls the first element matching the CSS selector
 *                    into view and sends a real mouse press and release at
 *                    its centre (Input.dispatchMouseEvent); "ok"
 *   screenshot FILE [W H [SCALE]]  the page (its top left W x H,
 *                    scaled) as PNG into FILE; "ok"
 *
 * and at the end "console-errors N" followed by N lines "console: TEXT":
 * console.error and console.assert calls, uncaught exceptions and the
 * browser's own error log entries (a blocked or failed load among them).
 * Exit 0 when the script ran (whatever it found), 1 when the browser could
 * not be driven (it did not start, a command timed out after 60 s).
 */
#include <cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct cdp {
	int to, from;             /* our ends of the browser's fds 3 and 4 */
	pid_t pid;
	int next_id;
	char session[128];
	char *buf;                /* bytes read, not yet a whole message */
	size_t len, cap;
	int loaded;               /* Page.loadEventFired seen */
	char **errs;              /* console errors, in order */
	size_t n_errs;
};

static void die(const char *msg)
{
	fprintf(stderr, "cdp-run: %s\n", msg);
	exit(1);
}

static void note_error(struct cdp *c, const char *text)
{
	char **e = realloc(c->errs, (c->n_errs + 1) * sizeof(*e));

	if (!e)
		die("out of memory");
	c->errs = e;
	c->errs[c->n_errs] = strdup(text ? text : "(no text)");
	for (char *p = c->errs[c->n_errs]; p && *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	c->n_errs++;
}

/* An event: record errors and the load. */
static void on_event(struct cdp *c, const cJSON *msg)
{
	const cJSON *m = cJSON_GetObjectItem(msg, "method");
	const cJSON *p = cJSON_GetObjectItem(msg, "params");

	if (!cJSON_IsString(m))
		return;
	if (!strcmp(m->valuestring, "Page.loadEventFired")) {
		c->loaded = 1;
	} else if (!strcmp(m->valuestring, "Runtime.exceptionThrown")) {
		const cJSON *d = cJSON_GetObjectItem(p, "exceptionDetails");
		const cJSON *ex = cJSON_GetObjectItem(d, "exception");
		const cJSON *t = cJSON_GetObjectItem(ex, "description");

		if (!cJSON_IsString(t))
			t = cJSON_GetObjectItem(d, "text");
		note_error(c, cJSON_IsString(t) ? t->valuestring : "exception");
	} else if (!strcmp(m->valuestring, "Runtime.consoleAPICalled")) {
		const cJSON *t = cJSON_GetObjectItem(p, "type");

		if (cJSON_IsString(t) && (!strcmp(t->valuestring, "error") ||
					  !strcmp(t->valuestring, "assert"))) {
			const cJSON *a = cJSON_GetArrayItem(cJSON_GetObjectItem(p, "args"), 0);
			const cJSON *v = cJSON_GetObjectItem(a, "value");

			if (!cJSON_IsString(v))
				v = cJSON_GetObjectItem(a, "description");
			note_error(c, cJSON_IsString(v) ? v->valuestring : t->valuestring);
		}
	} else if (!strcmp(m->valuestring, "Log.entryAdded")) {
		const cJSON *e = cJSON_GetObjectItem(p, "entry");
		const cJSON *l = cJSON_GetObjectItem(e, "level");
		const cJSON *t = cJSON_GetObjectItem(e, "text");

		if (cJSON_IsString(l) && !strcmp(l->valuestring, "error"))
			note_error(c, cJSON_IsString(t) ? t->valuestring : "log error");
	}
}

/* The next whole message (malloc'd), waiting until deadline. */
static cJSON *read_msg(struct cdp *c, time_t deadline)
{
	for (;;) {
		char *z = c->len ? memchr(c->buf, 0, c->len) : NULL;

		if (z) {
			size_t n = (size_t)(z - c->buf) + 1;
			cJSON *msg = cJSON_Parse(c->buf);

			memmove(c->buf, c->buf + n, c->len - n);
			c->len -= n;
			if (!msg)
				die("the browser sent a message that is not JSON");
			return msg;
		}
		struct pollfd pf = { .fd = c->from, .events = POLLIN };
		int left = (int)(deadline - time(NULL));

		if (left <= 0)
			die("timed out waiting for the browser");
		if (poll(&pf, 1, left * 1000) <= 0) {
			if (errno == EINTR)
				continue;
			die("timed out waiting for the browser");
		}
		if (c->cap - c->len < 65536) {
			c->cap = c->cap * 2 + 65536;
			if (!(c->buf = realloc(c->buf, c->cap)))
				die("out of memory");
		}
		ssize_t r = read(c->from, c->buf + c->len, c->cap - c->len);

		if (r <= 0)
			die("the browser closed the pipe");
		c->len += (size_t)r;
	}
}

/* Send method(params) (params: JSON text or NULL) to the page session
 * (page != 0) or the browser; return the result object's owner. */
static cJSON *call(struct cdp *c, const char *method, const char *params,
		   int page)
{
	int id = ++c->next_id;
	size_t n = strlen(method) + (params ? strlen(params) : 2) + 256;
	char *m = malloc(n);
	time_t deadline = time(NULL) + 60;

	if (!m)
		die("out of memory");
	n = (size_t)snprintf(m, n, "{\"id\":%d,\"method\":\"%s\",\"params\":%s%s%s%s}", id,
			     method, params ? params : "{}", page ? ",\"sessionId\":\"" : "",
			     page ? c->session : "", page ? "\"" : "");
	m[n++] = 0;
	for (size_t off = 0; off < n;) {
		ssize_t w = write(c->to, m + off, n - off);

		if (w <= 0)
			die("cannot write to the browser");
		off += (size_t)w;
	}
	free(m);
	for (;;) {
		cJSON *msg = read_msg(c, deadline);
		const cJSON *mid = cJSON_GetObjectItem(msg, "id");

		if (cJSON_IsNumber(mid) && mid->valueint == id) {
			const cJSON *e = cJSON_GetObjectItem(msg, "error");

			if (e) {
				char *t = cJSON_PrintUnformatted(e);

				fprintf(stderr, "cdp-run: %s: %s\n", method, t);
				exit(1);
			}
			return msg;
		}
		on_event(c, msg);
		cJSON_Delete(msg);
	}
}

/* Evaluate expr in the page; the JSON text of its value (malloc'd), or
 * "ERROR ..." when it throws. */
static char *eval(struct cdp *c, const char *expr)
{
	cJSON *p = cJSON_CreateObject(), *res, *r, *ex;
	char *params, *out;

	cJSON_AddStringToObject(p, "expression", expr);
	cJSON_AddBoolToObject(p, "returnByValue", 1);
	cJSON_AddBoolToObject(p, "awaitPromise", 1);
	params = cJSON_PrintUnformatted(p);
	cJSON_Delete(p);
	res = call(c, "Runtime.evaluate", params, 1);
	free(params);
	r = cJSON_GetObjectItem(res, "result");
	ex = cJSON_GetObjectItem(r, "exceptionDetails");
	if (ex) {
		const cJSON *d = cJSON_GetObjectItem(cJSON_GetObjectItem(ex, "exception"), "description");
		size_t n = 64 + (cJSON_IsString(d) ? strlen(d->valuestring) : 0);

		out = malloc(n);
		snprintf(out, n, "ERROR %s", cJSON_IsString(d) ? d->valuestring : "exception");
		for (char *q = out; *q; q++)
			if (*q == '\n')
				*q = ' ';
	} else {
		const cJSON *v = cJSON_GetObjectItem(cJSON_GetObjectItem(r, "result"), "value");

		out = v ? cJSON_PrintUnformatted(v) : strdup("undefined");
	}
	cJSON_Delete(res);
	return out;
}

static void mouse(struct cdp *c, const char *type, double x, double y)
{
	char p[256];

	snprintf(p, sizeof(p), "{\"type\":\"%s\",\"x\":%.1f,\"y\":%.1f,\"button\":\"left\","
		 "\"buttons\":%d,\"clickCount\":1}", type, x, y,
		 strcmp(type, "mousePressed") ? 0 : 1);
	cJSON_Delete(call(c, "Input.dispatchMouseEvent", p, 1));
}

static const char *click(struct cdp *c, const char *sel)
{
	cJSON *s = cJSON_CreateString(sel), *v;
	char *js = cJSON_PrintUnformatted(s), *expr, *res;
	size_t n = strlen(js) + 512;
	const char *out = "ok";

	cJSON_Delete(s);
	expr = malloc(n);
	snprintf(expr, n, "(function () { var e = document.querySelector(%s); if (!e) return null; "
		 "e.scrollIntoView({block: 'center', inline: 'center'}); "
		 "var r = e.getBoundingClientRect(); return [r.left + r.width / 2, r.top + r.height / 2]; })()",
		 js);
	free(js);
	res = eval(c, expr);
	free(expr);
	v = cJSON_Parse(res);
	if (cJSON_GetArraySize(v) == 2) {
		double x = cJSON_GetArrayItem(v, 0)->valuedouble;
		double y = cJSON_GetArrayItem(v, 1)->valuedouble;

		mouse(c, "mouseMoved", x, y);
		mouse(c, "mousePressed", x, y);
		mouse(c, "mouseReleased", x, y);
	} else
		out = "ERROR no such element";
	cJSON_Delete(v);
	free(res);
	return out;
}

static int b64(int ch)
{
	return ch >= 'A' && ch <= 'Z' ? ch - 'A' : ch >= 'a' && ch <= 'z' ? ch - 'a' + 26
	     : ch >= '0' && ch <= '9' ? ch - '0' + 52 : ch == '+' ? 62 : ch == '/' ? 63 : -1;
}

static const char *screenshot(struct cdp *c, const char *arg)
{
	char path[4096], params[256];
	double w = 0, h = 0, scale = 1;
	int n = sscanf(arg, "%4095s %lf %lf %lf", path, &w, &h, &scale);

	if (n >= 3)
		snprintf(params, sizeof(params), "{\"format\":\"png\",\"clip\":{\"x\":0,\"y\":0,"
			 "\"width\":%.0f,\"height\":%.0f,\"scale\":%g}}", w, h, scale);
	else
		snprintf(params, sizeof(params), "{\"format\":\"png\"}");
	cJSON *res = call(c, "Page.captureScreenshot", params, 1);
	const cJSON *d = cJSON_GetObjectItem(cJSON_GetObjectItem(res, "result"), "data");
	FILE *f;
	unsigned acc = 0;
	int bits = 0;

	if (!cJSON_IsString(d) || !(f = fopen(path, "wb"))) {
		cJSON_Delete(res);
		return "ERROR no screenshot";
	}
	for (const char *p = d->valuestring; *p; p++) {
		int v = b64((unsigned char)*p);

		if (v < 0)
			continue;
		acc = (acc << 6) | (unsigned)v;
		if ((bits += 6) >= 8) {
			bits -= 8;
			fputc((int)((acc >> bits) & 0xff), f);
		}
	}
	cJSON_Delete(res);
	return fclose(f) ? "ERROR cannot write" : "ok";
}

int main(int argc, char **argv)
{
	struct cdp c = { 0 };
	int to[2], from[2];
	char udd[] = "/tmp/cdp-run.XXXXXX", line[65536], cmd[1024];
	cJSON *r;
	time_t deadline;

	if (argc != 3) {
		fprintf(stderr, "Usage: cdp-run BROWSER URL < SCRIPT\n");
		return 2;
	}
	if (!mkdtemp(udd) || pipe(to) || pipe(from))
		die("cannot set up");
	signal(SIGPIPE, SIG_IGN);
	if ((c.pid = fork()) < 0)
		die("cannot fork");
	if (c.pid == 0) {
		char ud[128];
		int null = open("/dev/null", 1);

		snprintf(ud, sizeof(ud), "--user-data-dir=%s", udd);
		/* fds 3 and 4 must be exactly these ends */
		int a = dup(to[0]), b = dup(from[1]);

		dup2(a, 3);
		dup2(b, 4);
		if (null >= 0) {
			dup2(null, 1);
			dup2(null, 2);
		}
		for (int fd = 5; fd < 64; fd++)
			close(fd);
		execlp(argv[1], argv[1], "--headless", "--no-sandbox", "--disable-gpu",
		       "--remote-debugging-pipe", ud, "--no-first-run",
		       "--no-default-browser-check", "--hide-scrollbars", "--mute-audio",
		       "--disable-extensions", "--window-size=1400,1000", "about:blank",
		       (char *)NULL);
		_exit(127);
	}
	close(to[0]);
	close(from[1]);
	c.to = to[1];
	c.from = from[0];

	/* a page of our own, attached in flat mode */
	r = call(&c, "Target.createTarget", "{\"url\":\"about:blank\"}", 0);
	{
		const cJSON *t = cJSON_GetObjectItem(cJSON_GetObjectItem(r, "result"), "targetId");
		char p[256];

		if (!cJSON_IsString(t))
			die("no target");
		snprintf(p, sizeof(p), "{\"targetId\":\"%s\",\"flatten\":true}", t->valuestring);
		cJSON_Delete(r);
		r = call(&c, "Target.attachToTarget", p, 0);
		t = cJSON_GetObjectItem(cJSON_GetObjectItem(r, "result"), "sessionId");
		if (!cJSON_IsString(t))
			die("no session");
		snprintf(c.session, sizeof(c.session), "%s", t->valuestring);
		cJSON_Delete(r);
	}
	cJSON_Delete(call(&c, "Runtime.enable", NULL, 1));
	cJSON_Delete(call(&c, "Log.enable", NULL, 1));
	cJSON_Delete(call(&c, "Page.enable", NULL, 1));
	cJSON_Delete(call(&c, "Emulation.setDeviceMetricsOverride",
			  "{\"width\":1400,\"height\":1000,\"deviceScaleFactor\":1,\"mobile\":false}", 1));
	{
		cJSON *p = cJSON_CreateObject();
		char *s;

		cJSON_AddStringToObject(p, "url", argv[2]);
		s = cJSON_PrintUnformatted(p);
		cJSON_Delete(p);
		cJSON_Delete(call(&c, "Page.navigate", s, 1));
		free(s);
	}
	deadline = time(NULL) + 60;
	while (!c.loaded) {
		cJSON *msg = read_msg(&c, deadline);

		on_event(&c, msg);
		cJSON_Delete(msg);
	}

	while (fgets(line, sizeof(line), stdin)) {
		char *arg;

		line[strcspn(line, "\n")] = 0;
		if (!*line || *line == '#')
			continue;
		arg = strchr(line, ' ');
		snprintf(cmd, sizeof(cmd), "%.*s", arg ? (int)(arg - line) : (int)strlen(line), line);
		arg = arg ? arg + 1 : "";
		if (!strcmp(cmd, "eval")) {
			char *v = eval(&c, arg);

			puts(v);
			free(v);
		} else if (!strcmp(cmd, "click"))
			puts(click(&c, arg));
		else if (!strcmp(cmd, "screenshot"))
			puts(screenshot(&c, arg));
		else
			printf("ERROR unknown command %s\n", cmd);
		fflush(stdout);
	}
	/* events that arrived after the last command */
	cJSON_Delete(call(&c, "Runtime.evaluate", "{\"expression\":\"0\"}", 1));
	printf("console-errors %zu\n", c.n_errs);
	for (size_t i = 0; i < c.n_errs; i++)
		printf("console: %s\n", c.errs[i]);
	fflush(stdout);

	/* Browser.close: the browser may close the pipe before it answers */
	{
		static const char bye[] = "{\"id\":999999,\"method\":\"Browser.close\",\"params\":{}}";

		if (write(c.to, bye, sizeof(bye)) < 0)
			kill(c.pid, SIGTERM);
	}
	close(c.to);
	close(c.from);
	waitpid(c.pid, NULL, 0);
	{
		char rm[256];

		snprintf(rm, sizeof(rm), "rm -rf '%s'", udd);
		if (system(rm) != 0)
			fprintf(stderr, "cdp-run: cannot remove %s\n", udd);
	}
	return 0;
}
