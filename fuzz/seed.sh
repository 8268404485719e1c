#!/bin/sh
# Seeds for the fuzz targets, from ../shared/corpus/ (real CT data, feeds and names) and the
# project's own TOML files. Written to fuzz/corpus/<target>/, which git ignores: the corpus is
# never committed. Without ../shared/corpus/ only the TOML seeds are made.
set -eu
cd "$(dirname "$0")"
CORPUS=${LOOKALIKE_CORPUS:-../../shared/corpus}
for t in domain_match ct_tile ct_get_entries checkpoint certstream nrd_formats toml_config enrich_parse; do
    mkdir -p "corpus/$t"
done
cp ../watchlists/*.toml ../lookalike.example.toml corpus/toml_config/
# enrich_parse: the RDAP bootstrap, an RDAP domain object, pages, TXT records.
cp ../src/enrich/rdap_bootstrap.json corpus/enrich_parse/bootstrap.json
cat > corpus/enrich_parse/rdap-domain.json <<'JSON'
{"objectClassName":"domain","ldhName":"PAYPA1-LOGIN.COM","handle":"2901_DOMAIN_COM-VRSN",
 "status":["client transfer prohibited"],
 "events":[{"eventAction":"registration","eventDate":"2026-11-20T09:12:44Z"},
           {"eventAction":"expiration","eventDate":"2027-11-20T09:12:44Z"}],
 "entities":[{"objectClassName":"entity","roles":["registrar"],"handle":"1068",
   "vcardArray":["vcard",[["version",{},"text","4.0"],["fn",{},"text","NameCheap, Inc."]]],
   "publicIds":[{"type":"IANA Registrar ID","identifier":"1068"}]}],
 "nameservers":[{"objectClassName":"nameserver","ldhName":"DNS1.REGISTRAR-SERVERS.COM"}]}
JSON
printf '<html><head><title>PayPal &amp; Login &#x2014; Verify</title></head><body><p>Pay<i>Pal</i> account</p></body></html>' > corpus/enrich_parse/page.html
printf '<html><head><title>example.com is for sale</title><script src="//parking.example/park.js"></script></head><body>This domain may be for sale. Buy this domain.</body></html>' > corpus/enrich_parse/parked.html
printf 'v=spf1 include:_spf.google.com ~all\nv=DMARC1; p=reject; rua=mailto:d@example.com\nns1.sedoparking.com\n' > corpus/enrich_parse/txt
if [ ! -d "$CORPUS" ]; then
    echo "seed.sh: $CORPUS is absent: only the TOML seeds were made (the fuzzers start from nothing otherwise)"
    exit 0
fi
i=0
zstdcat "$CORPUS/ct-names-1m.txt.zst" | head -n 3000 | while read -r name; do
    i=$((i + 1)); printf '%s' "$name" > "corpus/domain_match/ct-$i"
done
zstdcat "$CORPUS/tranco-top-100k.txt.zst" | head -n 300 | while read -r name; do
    i=$((i + 1)); printf '%s' "$name" > "corpus/domain_match/tranco-$i"
done
cut -d, -f3,4 "$CORPUS/idn-homographs-2017.csv" | tr ',' '\n' | head -n 600 | while read -r name; do
    i=$((i + 1)); printf '%s.com' "$name" > "corpus/domain_match/idn-$i"
done
find "$CORPUS/ct/static-ct-navigli2025h2/tile/data" -type f | while read -r f; do
    cp "$f" "corpus/ct_tile/$(echo "$f" | sed 's|.*/data/||; s|/|_|g')"
done
# The first few kilobytes too: smaller inputs mutate faster.
head -c 4096 "$CORPUS/ct/static-ct-navigli2025h2/tile/data/000" > corpus/ct_tile/first-bytes
cp "$CORPUS"/ct/*get-entries*.json corpus/ct_get_entries/
cp "$CORPUS/ct/sycamore2024h2.checkpoint" "$CORPUS/ct/ctgo_FourEntrySTH_get-sth.json" corpus/checkpoint/
cp "$CORPUS"/ct/calidog_certstream*.json corpus/certstream/
printf '{"message_type":"dns_entries","data":["a.example","b.example"]}' > corpus/certstream/dns-entries
printf '{"message_type":"heartbeat","timestamp":1}' > corpus/certstream/heartbeat
zstdcat "$CORPUS/nrd-whoisds-2020-05.txt.zst" | head -n 200 > corpus/nrd_formats/text
gzip -c corpus/nrd_formats/text > corpus/nrd_formats/gz
python3 - corpus/nrd_formats <<'PY'
import sys, os, zipfile, io
d = sys.argv[1]
text = open(os.path.join(d, "text"), "rb").read()
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("domain-names.txt", text)
open(os.path.join(d, "zip"), "wb").write(buf.getvalue())
rows = ["id,domain,date"] + ["%d,%s,2020-05-01" % (i, n) for i, n in enumerate(text.decode().split())]
open(os.path.join(d, "csv"), "w").write("\n".join(rows) + "\n")
PY
echo "seed.sh: seeds in fuzz/corpus/ ($(find corpus -type f | wc -l) files)"
