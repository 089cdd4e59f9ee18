/* Per-blob progress bars on a terminal, in Podman's shape:
 *   Copying blob 4f4fb700ef54 [=========>----------] 12.1MiB / 37.5MiB
 *   Copying blob 4f4fb700ef54 done
 * The registry module announces each blob with a "Copying blob DIGEST"
 * line and reports its bytes (from any thread); the bars are redrawn in
 * place at most ten times a second.  Any other line closes the block of
 * bars (every one shown finished) and is printed below it. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/registry_flags.h"

#define BAR_WIDTH 30

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void draw_entry(const struct tty_progress_entry *t, bool final)
{
	const char *hex = strchr(t->digest, ':') ? strchr(t->digest, ':') + 1 : t->digest;
	fprintf(stderr, "\r\033[KCopying %s %.12s ", t->kind, hex);
	if (t->note[0]) {
		fprintf(stderr, "%s\n", t->note);
	} else if (final || (t->total > 0 && t->done >= t->total)) {
		fprintf(stderr, "done\n");
	} else if (t->total <= 0) {
		fprintf(stderr, "\n"); /* no bytes yet */
	} else {
		int fill = t->total > 0 ? (int)(t->done * BAR_WIDTH / t->total) : 0;
		char bar[BAR_WIDTH + 1];
		for (int i = 0; i < BAR_WIDTH; i++)
			bar[i] = i < fill ? '=' : i == fill ? '>' : '-';
		bar[BAR_WIDTH] = 0;
		fprintf(stderr, "[%s] %.1fMiB / %.1fMiB\n", bar, t->done / 1048576.0,
			t->total / 1048576.0);
	}
}

/* Redraws every bar (lock held). */
static void redraw(struct tty_progress *tp, bool force, bool final)
{
	int64_t t = now_ms();
	if (!force && t - tp->last_ms < 100)
		return;
	tp->last_ms = t;
	if (tp->drawn)
		fprintf(stderr, "\033[%dA", tp->drawn);
	for (size_t i = 0; i < tp->n; i++)
		draw_entry(&tp->v[i], final);
	tp->drawn = (int)tp->n;
	fflush(stderr);
}

static struct tty_progress_entry *find(struct tty_progress *tp, const char *digest)
{
	for (size_t i = 0; i < tp->n; i++)
		if (!strcmp(tp->v[i].digest, digest))
			return &tp->v[i];
	return NULL;
}

void tty_progress_line(void *ctx, const char *line)
{
	struct tty_progress *tp = ctx;
	const char *kind = str_has_prefix(line, "Copying blob ")     ? "blob"
			   : str_has_prefix(line, "Copying config ") ? "config"
								     : NULL;
	pthread_mutex_lock(&tp->lock);
	if (kind) {
		const char *d = line + strlen("Copying ") + strlen(kind) + 1;
		size_t dl = strcspn(d, " ");
		struct tty_progress_entry *t;
		char digest[sizeof(t->digest)];
		snprintf(digest, sizeof(digest), "%.*s", (int)dl, d);
		t = find(tp, digest);
		if (!t) {
			tp->v = xrealloc(tp->v, (tp->n + 1) * sizeof(*tp->v));
			t = &tp->v[tp->n++];
			memset(t, 0, sizeof(*t));
			snprintf(t->digest, sizeof(t->digest), "%s", digest);
			snprintf(t->kind, sizeof(t->kind), "%s", kind);
		}
		if (d[dl] == ' ')
			snprintf(t->note, sizeof(t->note), "%s", d + dl + 1);
		redraw(tp, true, false);
	} else {
		if (tp->n)
			redraw(tp, true, true);
		free(tp->v);
		tp->v = NULL;
		tp->n = 0;
		tp->drawn = 0;
		fprintf(stderr, "%s\n", line);
	}
	pthread_mutex_unlock(&tp->lock);
}

void tty_progress_bytes(void *ctx, const char *digest, int64_t done, int64_t total)
{
	struct tty_progress *tp = ctx;
	struct tty_progress_entry *t;
	pthread_mutex_lock(&tp->lock);
	t = find(tp, digest);
	if (t) {
		/* The first bytes and the last are always drawn. */
		bool first = t->total <= 0;
		t->done = done;
		t->total = total;
		redraw(tp, first || done >= total, false);
	}
	pthread_mutex_unlock(&tp->lock);
}

void tty_progress_release(struct tty_progress *tp)
{
	if (tp->n)
		redraw(tp, true, true);
	free(tp->v);
	pthread_mutex_destroy(&tp->lock);
	memset(tp, 0, sizeof(*tp));
}

bool progress_use_tty(struct tty_progress *tp, registry_progress *line, registry_bytes *bytes,
		      void **ctx)
{
	if (!*line || !isatty(STDERR_FILENO))
		return false;
	memset(tp, 0, sizeof(*tp));
	pthread_mutex_init(&tp->lock, NULL);
	*line = tty_progress_line;
	*bytes = tty_progress_bytes;
	*ctx = tp;
	return true;
}
