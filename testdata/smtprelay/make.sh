#!/bin/sh
# Regenerates notice-sample.eml: a bounce notice (RFC 3464 DSN) as sekisho
# writes it, from the fixed sample in gateway/smtprelay/notice_test.go
# (sampleNotice), for a visual check in a mail client. Nothing reads it in
# tests; the tests check the notice's structure directly.
set -eu
cd "$(dirname "$0")/../.."
SEKISHO_DUMP_NOTICE="$PWD/testdata/smtprelay/notice-sample.eml" \
  go test -count=1 -run TestWriteNoticeMasksSubjectInHeaders ./gateway/smtprelay/
echo "wrote testdata/smtprelay/notice-sample.eml"
