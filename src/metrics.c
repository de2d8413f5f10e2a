/*
 * metrics.c: counters and histograms for /metrics (Prometheus text 0.0.4).
 *
 * Everything here is updated from the event loop only; rendering walks the
 * current values. Route labels come from our route table (or "other"), so
 * a client cannot grow the label set by inventing paths.
 */
#include "autokittehd.h"

#include <event2/buffer.h>
#include <stdlib.h>
#include <string.h>

struct http_counter {
	const char	*route;		/* static string from the route table */
	int		 status;
	uint64_t	 count;
};

static const double commit_buckets_s[] = {
	0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
	0.1, 0.25, 1.0,
};
static const double batch_buckets[] = {
	1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024,
};

static struct {
	struct http_counter	*http;
	size_t			 nhttp, caphttp;
	int64_t			 connections;
	uint64_t		 commit_bucket[nitems(commit_buckets_s)];
	uint64_t		 commit_count;
	double			 commit_sum_s;
	uint64_t		 batch_bucket[nitems(batch_buckets)];
	uint64_t		 batch_sum;
	uint64_t		 commits_failed;
	int			 store_full;
	uint64_t		 store_full_errors;
	uint64_t		 pruned_sessions, pruned_events;
	int64_t			 prune_last_us;
} m;

void
metrics_init(void)
{
	free(m.http);
	memset(&m, 0, sizeof m);
}

void
metrics_http_request(const char *route, int status)
{
	for (size_t i = 0; i < m.nhttp; i++) {
		if (m.http[i].route == route && m.http[i].status == status) {
			m.http[i].count++;
			return;
		}
	}
	if (m.nhttp == m.caphttp) {
		m.caphttp = m.caphttp == 0 ? 16 : m.caphttp * 2;
		m.http = xreallocarray(m.http, m.caphttp, sizeof *m.http);
	}
	m.http[m.nhttp++] = (struct http_counter){ route, status, 1 };
}

void
metrics_http_connections(int delta)
{
	m.connections += delta;
}

void
metrics_commit(uint64_t latency_us, size_t batch, int ok)
{
	double s = (double)latency_us / 1e6;

	if (!ok)
		m.commits_failed++;
	m.commit_count++;
	m.commit_sum_s += s;
	m.batch_sum += batch;
	for (size_t i = 0; i < nitems(commit_buckets_s); i++) {
		if (s <= commit_buckets_s[i])
			m.commit_bucket[i]++;
	}
	for (size_t i = 0; i < nitems(batch_buckets); i++) {
		if ((double)batch <= batch_buckets[i])
			m.batch_bucket[i]++;
	}
}

void
metrics_store_full(int full)
{
	m.store_full = full;
}

void
metrics_store_full_error(void)
{
	m.store_full_errors++;
}

void
metrics_pruned(uint64_t sessions, uint64_t events)
{
	m.pruned_sessions += sessions;
	m.pruned_events += events;
}

void
metrics_prune_pass(int64_t at_us)
{
	m.prune_last_us = at_us;
}

static void
render_histogram(struct evbuffer *out, const char *name, const char *help,
    const double *bounds, const uint64_t *counts, size_t n, uint64_t total,
    double sum)
{
	evbuffer_add_printf(out, "# HELP %s %s\n# TYPE %s histogram\n", name,
	    help, name);
	for (size_t i = 0; i < n; i++)
		evbuffer_add_printf(out, "%s_bucket{le=\"%g\"} %llu\n", name,
		    bounds[i], (unsigned long long)counts[i]);
	evbuffer_add_printf(out, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.6f\n"
	    "%s_count %llu\n", name, (unsigned long long)total, name, sum,
	    name, (unsigned long long)total);
}

void
metrics_render(struct evbuffer *out, uint64_t uptime_s)
{
	evbuffer_add_printf(out,
	    "# HELP autokitteh_build_info Version of autokittehd.\n"
	    "# TYPE autokitteh_build_info gauge\n"
	    "autokitteh_build_info{version=\"%s\"} 1\n"
	    "# HELP autokitteh_uptime_seconds Seconds since autokittehd started.\n"
	    "# TYPE autokitteh_uptime_seconds gauge\n"
	    "autokitteh_uptime_seconds %llu\n"
	    "# HELP autokitteh_http_connections Open HTTP connections.\n"
	    "# TYPE autokitteh_http_connections gauge\n"
	    "autokitteh_http_connections %lld\n",
	    PACKAGE_VERSION, (unsigned long long)uptime_s,
	    (long long)m.connections);

	evbuffer_add_printf(out,
	    "# HELP autokitteh_http_requests_total HTTP requests answered, by "
	    "route and status.\n"
	    "# TYPE autokitteh_http_requests_total counter\n");
	for (size_t i = 0; i < m.nhttp; i++)
		evbuffer_add_printf(out, "autokitteh_http_requests_total{route="
		    "\"%s\",status=\"%d\"} %llu\n", m.http[i].route,
		    m.http[i].status, (unsigned long long)m.http[i].count);

	evbuffer_add_printf(out,
	    "# HELP autokitteh_store_commits_total Group commits, by result.\n"
	    "# TYPE autokitteh_store_commits_total counter\n"
	    "autokitteh_store_commits_total{result=\"ok\"} %llu\n"
	    "autokitteh_store_commits_total{result=\"failed\"} %llu\n",
	    (unsigned long long)(m.commit_count - m.commits_failed),
	    (unsigned long long)m.commits_failed);
	evbuffer_add_printf(out,
	    "# HELP autokitteh_store_disk_full 1 while the disk holding the "
	    "store is full (SQLITE_FULL since the last commit).\n"
	    "# TYPE autokitteh_store_disk_full gauge\n"
	    "autokitteh_store_disk_full %d\n"
	    "# HELP autokitteh_store_disk_full_errors_total Writes and commits "
	    "that failed because the disk was full.\n"
	    "# TYPE autokitteh_store_disk_full_errors_total counter\n"
	    "autokitteh_store_disk_full_errors_total %llu\n",
	    m.store_full, (unsigned long long)m.store_full_errors);
	evbuffer_add_printf(out,
	    "# HELP autokitteh_sessions_pruned_total Finished sessions deleted "
	    "by [sessions] retention.\n"
	    "# TYPE autokitteh_sessions_pruned_total counter\n"
	    "autokitteh_sessions_pruned_total %llu\n"
	    "# HELP autokitteh_events_pruned_total Events deleted by "
	    "[sessions] retention.\n"
	    "# TYPE autokitteh_events_pruned_total counter\n"
	    "autokitteh_events_pruned_total %llu\n"
	    "# HELP autokitteh_prune_last_pass_timestamp_seconds When the last "
	    "retention pass ended (0: none yet).\n"
	    "# TYPE autokitteh_prune_last_pass_timestamp_seconds gauge\n"
	    "autokitteh_prune_last_pass_timestamp_seconds %lld\n",
	    (unsigned long long)m.pruned_sessions,
	    (unsigned long long)m.pruned_events,
	    (long long)(m.prune_last_us / 1000000));
	render_histogram(out, "autokitteh_store_commit_seconds",
	    "Time from a batch's first write to its COMMIT returning.",
	    commit_buckets_s, m.commit_bucket, nitems(commit_buckets_s),
	    m.commit_count, m.commit_sum_s);
	render_histogram(out, "autokitteh_store_commit_batch_size",
	    "Writes per group commit.", batch_buckets, m.batch_bucket,
	    nitems(batch_buckets), m.commit_count, (double)m.batch_sum);
}
