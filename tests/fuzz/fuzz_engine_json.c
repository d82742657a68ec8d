/*
 * The readers of the engine's JSON: what `docker inspect` answers, parsed as
 * engine.c parses it (json_loadb(), the array's first object), then read by
 * engine_host_port() and by the healthcheck check's readers of the image's
 * Config.Healthcheck and the container's State.Health, whose probe output
 * comes from the learner's image.
 *
 * Those readers are static, so this file includes their source:
 * fuzz-replaces: checks/healthcheck.c
 *
 * What is checked: the published port is -1 or one the engine listed; the
 * image's timings always become evidence; the evidence keeps the last three
 * probes, each one, whatever their output (it is cut to 300 bytes).
 *
 * The seeds are whole documents of a few KiB: mutate them at full length.
 * fuzz-options: -len_control=0
 */
#include "fuzz.h"

#include "checks/healthcheck.c"

/* engine_host_port() for each "N/tcp" the engine lists, and one it does not. */
static void check_ports(json_t *obj)
{
	json_t *ports = json_object_get(json_object_get(obj, "NetworkSettings"), "Ports"), *v, *b;
	const char *key;
	size_t i;

	json_object_foreach(ports, key, v) {
		int port = atoi(key), got, listed = 0;
		char want[32];

		snprintf(want, sizeof(want), "%d/tcp", port);
		if (port < 1 || port > 65535 || strcmp(key, want))
			continue;
		got = engine_host_port(obj, port);
		json_array_foreach(v, i, b) {
			const char *hp = json_string_value(json_object_get(b, "HostPort"));
			listed |= hp && atoi(hp) == got;
		}
		FUZZ_CHECK(got == -1 || listed, "host port %d for %s is not one the engine listed", got, key);
	}
	engine_host_port(obj, 3000);
}

static void check_health(json_t *obj)
{
	json_t *health = json_object_get(json_object_get(obj, "State"), "Health");
	json_t *log = json_object_get(health, "Log"), *probes;
	size_t want = json_array_size(log) < 3 ? json_array_size(log) : 3;

	first_pass_ms(obj, health);
	not_found(last_output(health));
	probes = probe_log(health, 3);
	FUZZ_CHECK(json_array_size(probes) == want, "the evidence keeps %zu of the last %zu probes",
		   json_array_size(probes), want);
	json_decref(probes);
}

static void check_timings(json_t *obj)
{
	json_t *hc = json_object_get(json_object_get(obj, "Config"), "Healthcheck");
	struct check_result res;
	struct check_def def;
	struct strbuf notes = STRBUF_INIT;

	memset(&res, 0, sizeof(res));
	memset(&def, 0, sizeof(def));
	def.params = json_pack("{s:i, s:i, s:i, s:i}", "interval_s", 30, "timeout_s", 3, "start_period_s", 10,
			       "retries", 3);
	timings(hc, &res);
	FUZZ_CHECK(json_is_object(json_object_get(res.evidence, "image_timings")), "the image's timings are lost");
	lesson_timings(&def, hc, &notes);
	json_decref(res.evidence);
	json_decref(def.params);
	strbuf_release(&notes);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_error_t jerr;
	json_t *root = json_loadb((const char *)data, size, 0, &jerr), *obj;

	obj = json_is_array(root) ? json_array_get(root, 0) : root;
	if (json_is_object(obj)) {
		check_ports(obj);
		check_health(obj);
		check_timings(obj);
	}
	json_decref(root);
	return 0;
}
