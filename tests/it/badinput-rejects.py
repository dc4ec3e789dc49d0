# Check a reject file against the input it came from, and summarise it
# (run by tests/it/badinput-lib.sh; not a test itself):
#
#   python3 badinput-rejects.py REJECT-FILE INPUT-FILE
#
# Every entry must be JSON (so UTF-8) and hold the input line it names:
# as a string ("text"; a byte that is not UTF-8 becomes U+FFFD), or as the
# object itself ("record", with the id a sender gave it); a line too long to read is named only, with
# an empty "text".  Prints "line N: [status S: ]reason" for each
# entry; exits 1 when an entry fails.
import codecs
import json
import sys

codecs.register_error('perbyte',
                      lambda e: ('\ufffd' * (e.end - e.start), e.end))
rej, src = sys.argv[1], sys.argv[2]
with open(src, 'rb') as f:
    lines = f.read().split(b'\n')
ok = True
with open(rej, 'rb') as f:
    for n, raw in enumerate(f, 1):
        try:
            e = json.loads(raw.decode('utf-8'))
        except ValueError as err:
            print('entry %d is not JSON: %s' % (n, err), file=sys.stderr)
            ok = False
            continue
        line = lines[e['line'] - 1]
        if line.endswith(b'\r'):
            line = line[:-1]
        if e['line'] == 1 and line.startswith(b'\xef\xbb\xbf'):
            line = line[3:]
        if 'text' in e and e['reason'].startswith('longer than '):
            holds = e['text'] == '' and len(line) > 1024 * 1024
        elif 'text' in e:
            holds = e['text'] == line.decode('utf-8', 'perbyte')
        else:
            want = json.loads(line.decode('utf-8'))
            # a sender gives a record without an id one of its own
            if want.get('id') is None and 'id' in e['record']:
                want['id'] = e['record']['id']
            holds = e['record'] == want
        if not holds:
            print('entry %d does not hold line %d' % (n, e['line']),
                  file=sys.stderr)
            ok = False
        status = 'status %d: ' % e['status'] if 'status' in e else ''
        print('line %d: %s%s' % (e['line'], status, e['reason']))
sys.exit(0 if ok else 1)
