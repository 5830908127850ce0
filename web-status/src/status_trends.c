/* status_trends.c: metrics over recent flights (/trends, /trends?metric=X).
 *
 * The plot is inline SVG written by the server, so it needs no JavaScript:
 * one line per (job, step) that recorded the metric, flights oldest to
 * newest from left to right, each point a link to its flight with the exact
 * value as its tooltip.  The data is model_metrics(): the latest values of
 * one metric through its index, however long the history.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "api_model.h"
#include "status.h"
#include "status_util.h"

#define PLOT_W 800
#define PLOT_H 300
#define MARGIN 50
#define POINTS 300

static const char *const palette[] = { "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e",
				       "#9467bd", "#8c564b", "#e377c2", "#17becf" };

static void metric_index(struct html *h, json_t *names)
{
	if (!json_array_size(names)) {
		html_raw(h, "<p>No metrics recorded yet.</p>\n");
		return;
	}
	html_raw(h, "<ul>");
	size_t i;
	json_t *n;
	json_array_foreach(names, i, n)
	{
		html_raw(h, "<li><a href=\"/trends?metric=");
		html_urlpart(h, json_string_value(n));
		html_raw(h, "\">");
		html_text(h, json_string_value(n));
		html_raw(h, "</a></li>");
	}
	html_raw(h, "</ul>\n");
}

/* Series key "job/step" of a point. */
static void series_key(json_t *p, char *key, size_t len)
{
	snprintf(key, len, "%s/%s", json_string_value(json_object_get(p, "job")),
		 json_string_value(json_object_get(p, "step")));
}

static void plot(struct html *h, json_t *points)
{
	size_t n = json_array_size(points);
	if (!n) {
		html_raw(h, "<p>No values for this metric.</p>\n");
		return;
	}
	/* Oldest first; x is the flight's rank among the plotted flights. */
	json_t *series = json_object();
	double lo = INFINITY, hi = -INFINITY;
	json_int_t last_flight = -1, nflights = 0;
	for (size_t k = n; k-- > 0;) {
		json_t *p = json_array_get(points, k);
		json_int_t f = json_integer_value(json_object_get(p, "flight_id"));
		if (f != last_flight)
			nflights++, last_flight = f;
		json_object_set_new(p, "x", json_integer(nflights - 1));
		double v = json_number_value(json_object_get(p, "value"));
		lo = v < lo ? v : lo;
		hi = v > hi ? v : hi;
		char key[256];
		series_key(p, key, sizeof key);
		json_t *s = json_object_get(series, key);
		if (!s) {
			s = json_array();
			json_object_set_new(series, key, s);
		}
		json_array_append(s, p);
	}
	if (hi - lo < 1e-12)
		lo -= 1, hi += 1;
	const char *unit = json_string_value(json_object_get(json_array_get(points, 0), "unit"));
	double w = PLOT_W - 2 * MARGIN, ht = PLOT_H - 2 * MARGIN;
	double dx = nflights > 1 ? w / (double)(nflights - 1) : 0;

	html_fmt(h,
		 "<svg class=\"plot\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
		 "xmlns=\"http://www.w3.org/2000/svg\" role=\"img\">",
		 PLOT_W, PLOT_H, PLOT_W, PLOT_H);
	html_fmt(h,
		 "<rect x=\"%d\" y=\"%d\" width=\"%.0f\" height=\"%.0f\" fill=\"#fff\" "
		 "stroke=\"#ccc\"/>",
		 MARGIN, MARGIN, w, ht);
	html_fmt(h, "<text x=\"4\" y=\"%d\" font-size=\"11\">%g</text>", MARGIN + 4, hi);
	html_fmt(h, "<text x=\"4\" y=\"%d\" font-size=\"11\">%g</text>", PLOT_H - MARGIN, lo);
	html_fmt(h,
		 "<text x=\"%d\" y=\"%d\" font-size=\"11\">%" JSON_INTEGER_FORMAT
		 " flights, oldest left</text>",
		 MARGIN, PLOT_H - MARGIN + 20, nflights);
	const char *key;
	json_t *s;
	size_t color = 0;
	json_object_foreach(series, key, s)
	{
		const char *c =
			color < sizeof palette / sizeof palette[0] ? palette[color] : "#999";
		color++;
		html_fmt(h, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\" points=\"",
			 c);
		size_t i;
		json_t *p;
		json_array_foreach(s, i, p)
		{
			double x =
				MARGIN + dx * (double)json_integer_value(json_object_get(p, "x"));
			double y = MARGIN +
				   ht * (hi - json_number_value(json_object_get(p, "value"))) /
					   (hi - lo);
			html_fmt(h, "%.1f,%.1f ", x, y);
		}
		html_raw(h, "\"/>");
		json_array_foreach(s, i, p)
		{
			double x =
				MARGIN + dx * (double)json_integer_value(json_object_get(p, "x"));
			double y = MARGIN +
				   ht * (hi - json_number_value(json_object_get(p, "value"))) /
					   (hi - lo);
			html_fmt(
				h,
				"<a href=\"/flights/%" JSON_INTEGER_FORMAT "\"><circle cx=\"%.1f\" "
				"cy=\"%.1f\" r=\"3\" fill=\"%s\"><title>flight %" JSON_INTEGER_FORMAT
				" ",
				json_integer_value(json_object_get(p, "flight_id")), x, y, c,
				json_integer_value(json_object_get(p, "flight_id")));
			html_text(h, key);
			html_fmt(h, ": %g ", json_number_value(json_object_get(p, "value")));
			html_text(h, unit);
			html_raw(h, "</title></circle></a>");
		}
	}
	html_raw(h, "</svg>\n<ul class=\"legend\">");
	color = 0;
	json_object_foreach(series, key, s)
	{
		const char *c =
			color < sizeof palette / sizeof palette[0] ? palette[color] : "#999";
		color++;
		html_fmt(h, "<li><span class=\"swatch\" style=\"background:%s\"></span>", c);
		html_text(h, key);
		html_fmt(h, " (%zu values, latest %g ", json_array_size(s),
			 json_number_value(json_object_get(
				 json_array_get(s, json_array_size(s) - 1), "value")));
		html_text(h, unit);
		html_raw(h, ")</li>");
	}
	html_raw(h, "</ul>\n");
	json_decref(series);
}

enum MHD_Result status_trends_page(struct http_req *r)
{
	const char *metric = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "metric");
	if (metric && !*metric)
		metric = NULL;
	json_t *doc;
	char err[512];
	int rc = model_metrics(r->db, metric, POINTS, &doc, err, sizeof err);
	if (rc)
		return page_error(r, rc, err);
	struct html h = { 0 };
	char title[160];
	snprintf(title, sizeof title, "Trends%s%.128s", metric ? ": " : "", metric ? metric : "");
	page_begin(&h, title, 0);
	if (metric)
		plot(&h, json_object_get(doc, "points"));
	else
		metric_index(&h, json_object_get(doc, "metrics"));
	page_end(&h);
	json_decref(doc);
	return page_send(r, &h);
}
