/* SPDX-License-Identifier: MIT */
/*
 * What an OTLP/HTTP receiver answers: on success maybe a partial success
 * (points rejected, with a message), on failure a google.rpc.Status with a
 * message. Both in protobuf or JSON, as the request was.
 */
#ifndef INFLIGHT_OTLP_RESPONSE_H
#define INFLIGHT_OTLP_RESPONSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct otlp_response {
	bool partial;        /* partial_success present */
	int64_t rejected;    /* rejected_data_points */
	char message[512];   /* error_message or Status.message */
	int32_t code;        /* Status.code */
};

/* `json`: the body is JSON, else protobuf. Returns 0, or -EBADMSG if unparseable. */
int otlp_response_parse_success(const void *body, size_t len, bool json, struct otlp_response *r);
int otlp_response_parse_status(const void *body, size_t len, bool json, struct otlp_response *r);

#endif
