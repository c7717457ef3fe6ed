#!/usr/bin/env bash
# The README's `backing serve` walkthrough, step by step; test/e2e/walkthrough.test.ts runs it, so
# the README cannot drift from what works. A venue set up from nothing: a key, a webhook endpoint,
# two accounts imported, prices posted, one account called, the signed webhook received and
# verified, the exposure report served. Needs jq and curl. Everything stays on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in jq curl; do command -v $tool >/dev/null || { echo "the walkthrough needs $tool" >&2; exit 2; }; done
DATA=$(mktemp -d)
: > "$DATA/webhooks.jsonl"; : > "$DATA/secret"

# 1. The system on a free port, with its data in $DATA; http://127.0.0.1 endpoints allowed (the
#    receiver below is local: without --allow-loopback-webhooks the SSRF guard refuses it). Each
#    background job gets its own process group (set -m), so that the SIGTERM at the end reaches
#    serve itself, which then drains and stops its DynamoDB Local.
set -m
npx backing serve --port 0 --data-dir "$DATA" --allow-loopback-webhooks > "$DATA/serve.log" 2> "$DATA/serve.err" &
SERVE=$!
node docs/webhook-receiver.mjs "$DATA/secret" "$DATA/webhooks.jsonl" > "$DATA/receiver.url" &
RECEIVER=$!
trap 'kill -TERM -- -$SERVE -$RECEIVER 2>/dev/null; wait $SERVE 2>/dev/null || true' EXIT
until API=$(jq -r 'select(.message? == "ready") | .url' "$DATA/serve.log" 2>/dev/null) && [ -n "$API" ]; do
  kill -0 $SERVE 2>/dev/null || { cat "$DATA/serve.log" "$DATA/serve.err" >&2; exit 1; }
  sleep 0.2
done
until [ -s "$DATA/receiver.url" ]; do sleep 0.1; done
ADMIN=$(cat "$DATA/admin-key")
echo "serve: $API"

# 2. A key for venue-a (shown once), and its webhook endpoint; the secret signs every webhook.
KEY=$(curl -sf -X POST $API/v1/keys -H "Authorization: Bearer $ADMIN" \
  -H 'content-type: application/json' -d '{"venue":"venue-a","label":"risk desk"}' | jq -r .key)
curl -sf -X POST $API/v1/endpoints -H "Authorization: Bearer $KEY" -H 'content-type: application/json' \
  -d "{\"url\":\"$(cat "$DATA/receiver.url")\",\"types\":[\"margin.call\",\"margin.liquidation\",\"margin.cured\"]}" \
  | jq -r .secret > "$DATA/secret"

# 3. Two accounts, one JSON document per line (each line names its venue, as an import is a file
#    of account documents): a-1 is long 1 BTC at 20,000 on 1,000 USDC, a-2 the same on 50,000.
cat > "$DATA/accounts.ndjson" <<'NDJSON'
{"id":"a-1","venue":"venue-a","collateral":{"USDC":"1000"},"positions":[{"instrument":"BTC-PERP","type":"perp","underlying":"BTC","size":"1","entryPrice":"20000"}]}
{"id":"a-2","venue":"venue-a","collateral":{"USDC":"50000"},"positions":[{"instrument":"BTC-PERP","type":"perp","underlying":"BTC","size":"1","entryPrice":"20000"}]}
NDJSON
curl -sf -X POST $API/v1/accounts/import -H "Authorization: Bearer $KEY" \
  -H 'content-type: application/x-ndjson' --data-binary @"$DATA/accounts.ndjson" | jq -c .

# 4. Prices, timestamped now (an event older than maxPriceAgeSeconds, 120 s, is stale and
#    triggers nothing), for every asset the accounts hold: USDC too. BTC 20,000, then 19,100:
#    a-1's equity falls to 100 against IM 152.8, a margin call.
price() {
  curl -sf -X POST $API/v1/prices -H "Authorization: Bearer $ADMIN" -H 'content-type: application/json' \
    -d "[{\"eventId\":\"USDC@$1\",\"asset\":\"USDC\",\"index\":\"1\",\"timestamp\":\"$(date -u +%FT%T.%3NZ)\",\"source\":\"feed\"},
         {\"eventId\":\"BTC@$1\",\"asset\":\"BTC\",\"index\":\"$2\",\"timestamp\":\"$(date -u +%FT%T.%3NZ)\",\"source\":\"feed\"}]"
}
price 1 20000 | jq -c .
price 2 19100 | jq -c .

# 5. The account's risk now, and the signed webhook the venue received (at once, from the stream).
curl -sf $API/v1/accounts/a-1/risk -H "Authorization: Bearer $KEY" | jq -c '.state | {status, equity, initialMargin, callAmount}'
until grep -q '"margin.call"' "$DATA/webhooks.jsonl"; do sleep 0.2; done
jq -c 'select(.type == "margin.call") | {type, verified, account: .data.account, previousStatus: .data.previousStatus, equity: .data.equity}' "$DATA/webhooks.jsonl"
curl -sf "$API/v1/notifications?limit=10" -H "Authorization: Bearer $KEY" | jq -c '[.notifications[] | {type, account: .payload.data.account}]'

# 6. What if BTC fell to 15,000? (nothing is stored)
curl -sf -X POST $API/v1/evaluate -H "Authorization: Bearer $KEY" -H 'content-type: application/json' \
  -d '{"accountId":"a-1","prices":{"BTC":{"index":"15000"}}}' | jq -c '.accounts[0] | {status, equity}'

# 7. The exposure report: the hourly job writes it; to have one now, run the job over the
#    system's table into the folder serve reads reports from (<data-dir>/reports).
DYNAMODB=$(jq -r 'select(.message? == "ready") | .dynamodb' "$DATA/serve.log")
npx backing report exposure --endpoint "$DYNAMODB" --table backing --out "$DATA/reports" --format json > /dev/null 2>&1
curl -sf $API/v1/reports/exposure/latest -H "Authorization: Bearer $KEY" | jq -c '{venue, accounts: .summary.accounts}'
echo "walkthrough: done"
