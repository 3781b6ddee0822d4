#!/usr/bin/env bash
# The scan behind data add and status: manifests in path byte order (names that sort before '/'),
# the stat cache seeing every kind of change, and the cache listing that counts missing objects
# of a directory with more than 512 files.
. "$(dirname "$0")/lib.sh"

new_project p
cd p

# '!', '-' and '.' sort before '/': "a.b" comes before "a/c" in byte order, though "a" < "a.b".
mkdir -p odd/a/b odd/z/y odd/a0
for f in 'a/c' 'a/b/c' 'a.b' 'a-b' 'a!x' 'a0/q' 'B' 'z/y/x' 'a b' 'Z.' 'z.y'; do
	printf '%s' "$f" >"odd/$f"
done
run "$FERRY" data add odd
expect_status 0
manifest=$(object_path . "$(pointer_digest odd.ferry)")
paths=$(tail -n +2 "$manifest" | cut -d' ' -f4-)
want=$(cd odd && find . -type f | sed 's|^\./||' | LC_ALL=C sort)
expect_eq "$paths" "$want" "manifest paths in byte order"
expect_eq "$(tail -n +2 "$manifest" | grep -c .)" 11 "manifest entries"
ok "a directory's manifest lists its files in byte order, as LC_ALL=C sort does"

# 600 files in three directories, two of them with the same content.
for d in 0 1 2; do
	mkdir -p "big/d$d"
	for i in $(seq 0 199); do printf 'file %s %s\n' "$d" "$i" >"big/d$d/f$i"; done
done
printf 'same content\n' >big/d0/f0
printf 'same content\n' >big/d2/f199
sleep 0.2 # the files' mtimes well before the stat cache's record time: its entries are trusted
run "$FERRY" data add big
expect_status 0
run "$FERRY" data status big
expect_out_contains "up to date    big"
ok "600 files: added and up to date"

# a new mtime, same bytes: re-hashed, still up to date
touch big/d1/f7
run "$FERRY" data status big
expect_out_contains "up to date    big"
ok "touching a file keeps the directory up to date"

# one byte changed, size and mtime kept (ctime changes): modified
cp -p big/d1/f8 ref
printf 'X' | dd of=big/d1/f8 bs=1 seek=0 conv=notrunc status=none
touch -r ref big/d1/f8
expect_eq "$(stat -c '%s %Y' big/d1/f8)" "$(stat -c '%s %Y' ref)" "size and mtime kept"
run "$FERRY" data status big
expect_out_contains "modified      big"
cp -p ref big/d1/f8
run "$FERRY" data status big
expect_out_contains "up to date    big"
ok "a byte changed under the same size and mtime is seen (ctime), and undone"

# replaced by another file of the same size and mtime (a new inode): modified
printf 'file 1 X\n' >new9
touch -r big/d1/f9 new9
mv new9 big/d1/f9
run "$FERRY" data status big
expect_out_contains "modified      big"
printf 'file 1 9\n' >big/d1/f9
run "$FERRY" data status big
expect_out_contains "up to date    big"
ok "a file replaced by one of the same size and mtime is seen (inode), and undone"

# objects removed from the cache: counted from a listing of the cache (601 objects > 512)
cache_rm() { chmod u+w "$(dirname "$1")" && rm -f "$1"; }
cache_rm "$(object_path . "$(sha256 big/d0/f0)")" # named by two files: counts twice
cache_rm "$(object_path . "$(sha256 big/d1/f1)")"
cache_rm "$(object_path . "$(sha256 big/d2/f2)")"
run "$FERRY" data status big
expect_out_contains "not in cache  big  (4 objects missing"
cache_rm "$(object_path . "$(pointer_digest big.ferry)")"
run "$FERRY" data status big
expect_out_contains "not in cache  big  (5 objects missing"
run "$FERRY" data add big
run "$FERRY" data status big
expect_out_contains "up to date    big"
ok "missing objects are counted, each file naming one once, and re-added"

done_testing
