/* The progress bar: see progress.h. */
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "progress.h"

/* Redraw interval: smooth enough, and cheap over a slow terminal link. */
#define PROGRESS_INTERVAL_MS 100
#define PROGRESS_WIDTH 30

static int64_t progress_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void progress_start(struct progress *p, const char *what, uint64_t total, enum progress_unit unit)
{
	p->on = isatty(STDERR_FILENO) == 1;
	p->shown = false;
	p->what = what;
	p->unit = unit;
	p->total = total;
	p->done = 0;
	p->last_ms = 0;
}

static void progress_amount(char *buf, size_t size, uint64_t n, enum progress_unit unit)
{
	if (unit == PROGRESS_MESSAGES)
		snprintf(buf, size, "%llu", (unsigned long long)n);
	else if (n < 10 * 1024 * 1024)
		snprintf(buf, size, "%.1f KiB", (double)n / 1024);
	else
		snprintf(buf, size, "%.1f MiB", (double)n / (1024 * 1024));
}

static void progress_draw(struct progress *p)
{
	char bar[PROGRESS_WIDTH + 1], done[32], total[32];

	progress_amount(done, sizeof(done), p->done, p->unit);
	if (p->total == 0) {
		fprintf(stderr, "\r%s: %s%s\033[K", p->what, done,
			p->unit == PROGRESS_MESSAGES ? " messages" : "");
	} else {
		uint64_t d = p->done > p->total ? p->total : p->done;
		unsigned filled = (unsigned)(d * PROGRESS_WIDTH / p->total);

		for (unsigned i = 0; i < PROGRESS_WIDTH; i++)
			bar[i] = i < filled ? '#' : '-';
		bar[PROGRESS_WIDTH] = '\0';
		progress_amount(total, sizeof(total), p->total, p->unit);
		fprintf(stderr, "\r%s [%s] %3u%%  %s/%s%s\033[K", p->what, bar,
			(unsigned)(d * 100 / p->total), done, total,
			p->unit == PROGRESS_MESSAGES ? " messages" : "");
	}
	fflush(stderr);
	p->shown = true;
}

void progress_update(struct progress *p, uint64_t done)
{
	int64_t now;

	p->done = done;
	if (!p->on)
		return;
	now = progress_now_ms();
	if (p->shown && now - p->last_ms < PROGRESS_INTERVAL_MS)
		return;
	p->last_ms = now;
	progress_draw(p);
}

void progress_clear(struct progress *p)
{
	if (!p->on || !p->shown)
		return;
	fputs("\r\033[K", stderr);
	fflush(stderr);
	p->shown = false;
}

void progress_end(struct progress *p)
{
	if (!p->on)
		return;
	progress_draw(p);
	fputc('\n', stderr);
	p->shown = false;
	p->on = false;
}
