/*
 * server-ops.c: the operational routes /healthz, /readyz and /metrics.
 *
 * /healthz answers while the event loop turns (a wedged loop answers
 * nothing, which is the point). /readyz is 200 only between READY=1 and
 * the start of shutdown, so a load balancer stops sending us work first,
 * and not while the disk holding the store is full.
 */
#include "autokittehd.h"

#include <event2/buffer.h>

static void
ops_text(struct evhttp_request *req, int status, const char *reason,
    const char *text)
{
	struct evbuffer *body = evbuffer_new();

	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "text/plain; charset=utf-8");
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Cache-Control", "no-store");
	evbuffer_add_printf(body, "%s\n", text);
	evhttp_send_reply(req, status, reason, body);
	evbuffer_free(body);
}

void
ops_healthz(struct evhttp_request *req, struct server *s)
{
	ops_text(req, 200, "OK", "ok");
}

void
ops_readyz(struct evhttp_request *req, struct server *s)
{
	if (server_is_ready(s))
		ops_text(req, 200, "OK", "ready");
	else
		ops_text(req, 503, "Service Unavailable",
		    server_is_stopping(s) ? "stopping" :
		    server_store(s) != NULL && store_is_full(server_store(s)) ?
		    "disk full: the store cannot save changes" : "starting");
}

/* Sessions by state, counted in the store. */
static void
ops_session_metrics(struct evbuffer *out)
{
	static const char *const states[] = {
		"created", "running", "completed", "error", "stopped",
	};
	if (controller == NULL || controller->store == NULL)
		return;
	evbuffer_add_printf(out, "# HELP autokitteh_sessions Sessions in the "
	    "store, by state.\n# TYPE autokitteh_sessions gauge\n");
	for (size_t i = 0; i < nitems(states); i++) {
		int64_t n = 0;

		if (store_count_sessions(controller->store, states[i], &n) != 0)
			return;
		evbuffer_add_printf(out, "autokitteh_sessions{state=\"%s\"} "
		    "%lld\n", states[i], (long long)n);
	}
}

void
ops_metrics(struct evhttp_request *req, struct server *s)
{
	struct evbuffer *body = evbuffer_new();

	metrics_render(body, server_uptime_seconds(s));
	if (controller != NULL && controller->pool != NULL)
		pool_metrics_render(controller->pool, body);
	ops_session_metrics(body);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
	evhttp_send_reply(req, 200, "OK", body);
	evbuffer_free(body);
}
