#!/bin/sh
# Regenerates the fixtures of testdata/config: a self-signed certificate and
# key for the tls fields, and prints a bcrypt hash (cost 4, password
# "secret") to paste into valid/users_tls.yaml. Needs openssl and python3
# (glibc crypt with bcrypt).
set -eu
cd "$(dirname "$0")"
mkdir -p certs
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
	-subj "/CN=sekisho.test" -keyout certs/test.key -out certs/test.crt 2>/dev/null
printf 'sekisho-test-admin-token\n' > certs/admin.token
python3 -W ignore -c 'import crypt; print(crypt.crypt("secret", crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16)))'
