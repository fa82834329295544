#!/bin/sh
# Writes fresh random credentials to deploy/compose/secrets/, one file per
# docker secret, and the TLS material: a private CA and one certificate per
# part, each naming who it is in a URI SAN (lienthong://engine,
# lienthong://agency/<name>, lienthong://temporal; docs/security.md). Existing
# files are kept, so running it again is harmless; to renew a certificate,
# delete its two files and run it again (the parts re-read them, no restart).
# The directory is private to you; the files are world-readable inside it
# because compose bind-mounts them and the containers run as other users.
# Needs openssl.
set -eu
cd "$(dirname "$0")"
mkdir -p secrets
chmod 700 secrets

rand() { head -c "$1" /dev/urandom | base64 | tr -d '\n'; }
put() {
	if [ ! -s "secrets/$1" ]; then
		printf '%s' "$2" >"secrets/$1"
		chmod 644 "secrets/$1"
		echo "wrote secrets/$1"
	fi
}

put postgres_password "$(rand 24 | tr '+/' '-_' | tr -d '=')"
put database_url "postgres://lienthong:$(cat secrets/postgres_password)@postgres:5432/lienthong?sslmode=disable"
put codec_key "$(rand 32)"
put token_key "$(rand 48)"
put agency_admin_key "$(rand 24)"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/openssl.cnf" <<'CNF'
[req]
distinguished_name = dn
prompt = no
[dn]
O = lienthong
CN = lienthong compose CA
[ca]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
CNF
key() { openssl ecparam -name prime256v1 -genkey -noout | openssl pkcs8 -topk8 -nocrypt -out "$1" 2>/dev/null; }

# The CA: ECDSA P-256, ten years. Its key stays in this directory only.
if [ ! -s secrets/tls_ca ]; then
	key secrets/tls_ca_key
	chmod 600 secrets/tls_ca_key
	openssl req -x509 -new -key secrets/tls_ca_key -config "$tmp/openssl.cnf" -extensions ca -days 3650 -sha256 -out secrets/tls_ca
	chmod 644 secrets/tls_ca
	echo "wrote secrets/tls_ca"
fi

# cert NAME SAN: NAME_tls_crt and NAME_tls_key, serving and calling, 397 days.
cert() {
	if [ -s "secrets/$1_tls_crt" ]; then
		return
	fi
	key "secrets/$1_tls_key"
	openssl req -new -key "secrets/$1_tls_key" -config "$tmp/openssl.cnf" -subj "/O=lienthong/CN=$1" -out "$tmp/$1.csr"
	printf 'basicConstraints = critical, CA:FALSE\nkeyUsage = critical, digitalSignature\nextendedKeyUsage = serverAuth, clientAuth\nsubjectAltName = %s\n' "$2" >"$tmp/$1.ext"
	openssl x509 -req -in "$tmp/$1.csr" -CA secrets/tls_ca -CAkey secrets/tls_ca_key -set_serial "0x$(openssl rand -hex 16)" \
		-days 397 -sha256 -extfile "$tmp/$1.ext" -out "secrets/$1_tls_crt" 2>/dev/null
	chmod 644 "secrets/$1_tls_crt" "secrets/$1_tls_key"
	echo "wrote secrets/$1_tls_crt"
}

# The engine: api (its REST gateway also reaches its own gRPC port over
# loopback) and worker.
cert engine "URI:lienthong://engine, DNS:api, DNS:worker, DNS:localhost, IP:127.0.0.1"
for agency in justice police insurance portal sms; do
	cert "$agency" "URI:lienthong://agency/$agency, DNS:agency, DNS:localhost, IP:127.0.0.1"
done
cert temporal "URI:lienthong://temporal, DNS:temporal, DNS:localhost, IP:127.0.0.1"
