#!/bin/sh
# make-test-certs.sh — a throw-away CA and a server certificate for 127.0.0.1, ::1 and localhost.
#
#   etc/make-test-certs.sh DIR
#
# Writes into DIR (created if needed): ca.crt and ca.key (the CA), server.crt (signed by it, for
# the IP addresses 127.0.0.1 and ::1 and the name localhost) and server.key.  ECDSA P-256 keys,
# valid for two days: for tests only, made at test time, never committed and never trusted
# anywhere else.  Needs the openssl command.
set -eu

dir=${1:?usage: make-test-certs.sh DIR}
mkdir -p "$dir"
cd "$dir"
umask 077

# Runs a command quietly, showing what it said only when it fails.
run() {
    out=$("$@" 2>&1) || { printf '%s\n' "$out" >&2; exit 1; }
}

run openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout ca.key -out ca.crt -days 2 -subj "/CN=turnpike test CA" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign"

run openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout server.key -out server.csr -subj "/CN=localhost"

cat >server.ext <<'EXT'
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost
EXT

run openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -set_serial "0x$(openssl rand -hex 8)" \
    -days 2 -extfile server.ext -out server.crt

rm -f server.csr server.ext
chmod 644 ca.crt server.crt
