#!/bin/sh
# A throwaway CA, a server certificate for 127.0.0.1 and a client
# certificate (CN inflight-client), for the TLS export tests.
#   make_certs.sh DIR
set -eu
d=$1
mkdir -p "$d"
cd "$d"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key \
	-out ca.pem -days 2 -subj /CN=inflight-test-ca 2>/dev/null
for who in server:127.0.0.1 client:inflight-client; do
	name=${who%%:*}
	cn=${who#*:}
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$name.key" \
		-out "$name.csr" -subj "/CN=$cn" 2>/dev/null
	printf 'subjectAltName=IP:127.0.0.1\n' >san.ext
	openssl x509 -req -in "$name.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -out "$name.pem" \
		-days 2 -extfile san.ext 2>/dev/null
done
