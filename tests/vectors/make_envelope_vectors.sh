#!/usr/bin/env bash
# Make Partner API envelope test vectors with the openssl command line only (no project code).
#
# The sender's side of the envelope: prepend 16 throw-away bytes (here ASCII '0' x16) to the
# UTF-8 JSON plaintext, encrypt with AES-256-CBC and PKCS#7 padding under a key and an IV that
# is never sent, and base64url-encode the ciphertext. The key travels as the client_secret:
# base64url of its 32 bytes.
#
# Usage:
#   make_envelope_vectors.sh [--secret B64URL | --key HEX64] [--iv HEX32] [PLAINTEXT...]
#
#   --secret B64URL  client_secret (base64url of the 32-byte key, '=' padding optional)
#   --key HEX64      the key as 64 hex digits (instead of --secret)
#   --iv HEX32       the IV as 32 hex digits
#   PLAINTEXT        one JSON text per vector (a single line); several make several vectors.
#                    With none, one sample ping-like request body is used.
#
# Environment variables ENVELOPE_SECRET, ENVELOPE_KEY and ENVELOPE_IV work like the options.
# A key or IV not given is generated (openssl rand) afresh for every vector.
# Output: a JSON document shaped like tests/vectors/envelope.json, on stdout.
#
# Reproduce a stored vector (tests/test_wallet_envelope.py does this for every one):
#   make_envelope_vectors.sh --secret "<client_secret>" \
#       --iv "<iv_used_by_sender_not_transmitted>" '<plaintext>'
# and compare "data" (and "data_padded").
set -euo pipefail

die() {
    echo "make_envelope_vectors.sh: $*" >&2
    exit 2
}

command -v openssl >/dev/null 2>&1 || die "openssl is not on PATH"

secret=${ENVELOPE_SECRET:-}
key=${ENVELOPE_KEY:-}
iv=${ENVELOPE_IV:-}
plaintexts=()

while [ $# -gt 0 ]; do
    case $1 in
        --secret) [ $# -ge 2 ] || die "--secret needs a value"; secret=$2; shift 2 ;;
        --key) [ $# -ge 2 ] || die "--key needs a value"; key=$2; shift 2 ;;
        --iv) [ $# -ge 2 ] || die "--iv needs a value"; iv=$2; shift 2 ;;
        -h | --help) sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        --) shift; plaintexts+=("$@"); break ;;
        -*) die "unknown option $1 (see --help)" ;;
        *) plaintexts+=("$1"); shift ;;
    esac
done

if [ ${#plaintexts[@]} -eq 0 ]; then
    plaintexts=('{"request_data":{},"timestamp":"2026-11-23T10:00:00.000Z","partner_call_id":"6d0a0d0e-5c1b-4c7e-9c55-1f2d3b4a5e6f"}')
fi
[ -z "$secret" ] || [ -z "$key" ] || die "give --secret or --key, not both"

to_hex() { od -An -v -tx1 | tr -d ' \n'; }

# base64 (standard alphabet, padded) on stdin → base64url without '=' padding
b64url() { tr '+/' '-_' | tr -d '=\n'; }

# base64url text → bytes
b64url_decode() {
    local text
    text=$(printf '%s' "$1" | tr -- '-_' '+/' | tr -d '=')
    while [ $(( ${#text} % 4 )) -ne 0 ]; do text="$text="; done
    printf '%s\n' "$text" | openssl base64 -d -A
}

# A JSON string literal for a single-line text (escapes backslash and double quote)
json_string() {
    case $1 in
        *[[:cntrl:]]*) die "a plaintext must be one line without control characters" ;;
    esac
    printf '"%s"' "$(printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g')"
}

is_hex() { [ ${#1} -eq "$2" ] && [ -z "$(printf '%s' "$1" | tr -d '0-9a-fA-F')" ]; }

if [ -n "$secret" ]; then
    key=$(b64url_decode "$secret" | to_hex)
    is_hex "$key" 64 || die "client_secret must decode to 32 bytes"
fi
[ -z "$key" ] || is_hex "$key" 64 || die "the key must be 64 hex digits"
[ -z "$iv" ] || is_hex "$iv" 32 || die "the IV must be 32 hex digits"

about="Partner API envelope vectors made with the openssl command line (AES-256-CBC, PKCS#7). Sender: prepend 16 throw-away bytes (here ASCII '0' x16) to the UTF-8 JSON, encrypt with a random IV that is not sent, base64url. Receiver: base64url-decode (with or without '=' padding), decrypt with any IV, drop the first 16 plaintext bytes. client_secret is base64url of the 32-byte key."

printf '{\n "about": %s,\n "vectors": [\n' "$(json_string "$about")"
count=0
for plaintext in "${plaintexts[@]}"; do
    vector_key=${key:-$(openssl rand -hex 32)}
    vector_iv=${iv:-$(openssl rand -hex 16)}
    # the secret as given, or the base64url of the key
    if [ -n "$secret" ]; then
        vector_secret=$secret
    else
        vector_secret=$(printf '%s' "$vector_key" | sed 's/../\\x&/g' | xargs -0 printf '%b' \
            | openssl base64 -A | b64url)
    fi
    padded=$(printf '0000000000000000%s' "$plaintext" \
        | openssl enc -aes-256-cbc -K "$vector_key" -iv "$vector_iv" \
        | openssl base64 -A)
    data=$(printf '%s' "$padded" | b64url)
    data_padded=$(printf '%s' "$padded" | tr '+/' '-_')
    count=$((count + 1))
    printf '  {\n'
    printf '   "client_secret": %s,\n' "$(json_string "$vector_secret")"
    printf '   "data": %s,\n' "$(json_string "$data")"
    printf '   "data_padded": %s,\n' "$(json_string "$data_padded")"
    printf '   "plaintext": %s,\n' "$(json_string "$plaintext")"
    printf '   "iv_used_by_sender_not_transmitted": %s\n' "$(json_string "$vector_iv")"
    if [ "$count" -lt ${#plaintexts[@]} ]; then printf '  },\n'; else printf '  }\n'; fi
done
printf ' ]\n}\n'
