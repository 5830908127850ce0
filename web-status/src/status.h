/* status.h: the status pages, rendered by the daemon as plain HTML (no
 * JavaScript) from the same read model as the JSON API (api_model.h).
 *
 *   /             flights, newest first, paged (?before=&limit=)
 *   /flights/<id> the grid: jobs x steps coloured by status, each cell
 *                 linking to its log, and the verdict against the baseline
 *   /jobs/<id>    steps, durations, metrics, logs and the console's tail
 *   /hosts        the pool with states and recent host events
 *   /hosts/<id>   one host and its event history, paged
 *   /trends       metrics over recent flights as SVG plots (?metric=NAME)
 *   /bisections/<id> a bisection: its commits, what each probe said, and the
 *                 first bad commit
 */
#ifndef WEB_STATUS_STATUS_H
#define WEB_STATUS_STATUS_H

#include "http.h"

enum MHD_Result status_flights_page(struct http_req *r);
enum MHD_Result status_flight_page(struct http_req *r);
enum MHD_Result status_job_page(struct http_req *r);
enum MHD_Result status_hosts_page(struct http_req *r);
enum MHD_Result status_host_page(struct http_req *r);
enum MHD_Result status_trends_page(struct http_req *r);
enum MHD_Result status_bisection_page(struct http_req *r);

#endif
