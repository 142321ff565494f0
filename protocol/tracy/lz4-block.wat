;; LZ4 raw block decoder (no frame header), hand-written WebAssembly text.
;;
;; The same semantics, checks and result codes as decompressBlock in lz4-block.ts: every literal
;; run, match offset and match length is checked against the input end, the output limit and the
;; start of the history window before a byte is copied, in the same order, so both decoders return
;; the same negative code for the same corrupt block. Each sequence consumes at least one input
;; byte, so a corrupt block cannot loop forever.
;;
;; Arguments are offsets in the imported linear memory (lz4-wasm.ts lays it out):
;;   src, srcLength   the compressed block [src, src + srcLength)
;;   d                where output starts (the "dIndex" of decompressBlock)
;;   dLimit           output may not pass it
;;   dMin             matches may reach back to it (the start of the kept history); dMin <= d <= dLimit
;; Result: the new end of output, or LZ4_ERR_LITERALS_PAST_INPUT (-1), LZ4_ERR_OUTPUT_OVERFLOW (-2),
;; LZ4_ERR_BAD_OFFSET (-3), LZ4_ERR_TRUNCATED (-4).
;;
;; Slack ("wild copies"): short literal runs and short matches are copied 16 bytes at a time with
;; i64 loads/stores, and overlapping matches 8 bytes at a time, past their exact end. So the decoder
;; may READ up to 16 bytes past src + srcLength and past dLimit, and may WRITE up to 16 bytes past
;; dLimit (bytes [dLimit, dLimit + 16)), never more, whatever the block holds. The caller reserves
;; that slack after both regions (LZ4_WASM_SLACK in lz4-wasm.ts). Bytes between the exact end of
;; output and dLimit + 16 are left with garbage: they are future output, never read before written.
;; Nothing is ever read below src or below dMin, nor written below d.
;;
;; All arithmetic is i32 on offsets below 2^31 (the memory is a few MiB): limits are compared as
;; "length > end - position" (never "position + length > end"), so a huge length cannot wrap.
;;
;; Literal runs over 16 bytes and non-overlapping matches over 64 use memory.copy (bulk memory); offset 1 uses
;; memory.fill; offsets 2..7 copy their first 8 bytes one at a time, then 8 at a time from a
;; multiple of the offset that is >= 8 (the output is periodic, so that reads the same bytes).
;; The module never grows its memory: views over it stay valid.
(module
  (import "env" "memory" (memory 1))

  (func $decode (export "decode")
    (param $s i32) (param $srcLength i32) (param $d i32) (param $dLimit i32) (param $dMin i32)
    (result i32)
    (local $sEnd i32) (local $token i32) (local $lit i32) (local $len i32) (local $b i32)
    (local $offset i32) (local $m i32) (local $e i32) (local $k i32)
    (local.set $sEnd (i32.add (local.get $s) (local.get $srcLength)))
    (block $done
      (loop $sequence
        (br_if $done (i32.ge_u (local.get $s) (local.get $sEnd)))
        (local.set $token (i32.load8_u (local.get $s)))
        (local.set $s (i32.add (local.get $s) (i32.const 1)))

        ;; literal run: length in the high nibble, 15 = more bytes follow (255 = more again)
        (local.set $lit (i32.shr_u (local.get $token) (i32.const 4)))
        (if (i32.eq (local.get $lit) (i32.const 15))
          (then
            (loop $litMore
              (if (i32.ge_u (local.get $s) (local.get $sEnd))
                (then (return (i32.const -4))))
              (local.set $b (i32.load8_u (local.get $s)))
              (local.set $s (i32.add (local.get $s) (i32.const 1)))
              (local.set $lit (i32.add (local.get $lit) (local.get $b)))
              (br_if $litMore (i32.eq (local.get $b) (i32.const 255))))))
        (if (local.get $lit)
          (then
            (if (i32.gt_u (local.get $lit) (i32.sub (local.get $sEnd) (local.get $s)))
              (then (return (i32.const -1))))
            (if (i32.gt_u (local.get $lit) (i32.sub (local.get $dLimit) (local.get $d)))
              (then (return (i32.const -2))))
            (if (i32.le_u (local.get $lit) (i32.const 16))
              (then
                ;; wild: 16 bytes whatever the run's length (slack after the input and dLimit)
                (i64.store (local.get $d) (i64.load (local.get $s)))
                (i64.store offset=8 (local.get $d) (i64.load offset=8 (local.get $s))))
              (else
                (memory.copy (local.get $d) (local.get $s) (local.get $lit))))
            (local.set $s (i32.add (local.get $s) (local.get $lit)))
            (local.set $d (i32.add (local.get $d) (local.get $lit)))))
        ;; the last sequence has literals only
        (br_if $done (i32.ge_u (local.get $s) (local.get $sEnd)))

        ;; match: u16 offset, length in the low nibble (+ extension bytes) + 4
        (if (i32.lt_u (i32.sub (local.get $sEnd) (local.get $s)) (i32.const 2))
          (then (return (i32.const -4))))
        (local.set $offset (i32.load16_u (local.get $s)))
        (local.set $s (i32.add (local.get $s) (i32.const 2)))
        (local.set $len (i32.and (local.get $token) (i32.const 15)))
        (if (i32.eq (local.get $len) (i32.const 15))
          (then
            (loop $lenMore
              (if (i32.ge_u (local.get $s) (local.get $sEnd))
                (then (return (i32.const -4))))
              (local.set $b (i32.load8_u (local.get $s)))
              (local.set $s (i32.add (local.get $s) (i32.const 1)))
              (local.set $len (i32.add (local.get $len) (local.get $b)))
              (br_if $lenMore (i32.eq (local.get $b) (i32.const 255))))))
        (local.set $len (i32.add (local.get $len) (i32.const 4)))
        (if (i32.or
              (i32.eqz (local.get $offset))
              (i32.gt_u (local.get $offset) (i32.sub (local.get $d) (local.get $dMin))))
          (then (return (i32.const -3))))
        (if (i32.gt_u (local.get $len) (i32.sub (local.get $dLimit) (local.get $d)))
          (then (return (i32.const -2))))
        (local.set $m (i32.sub (local.get $d) (local.get $offset)))
        (local.set $e (i32.add (local.get $d) (local.get $len)))

        (if (i32.ge_u (local.get $offset) (i32.const 8))
          (then
            (if (i32.le_u (local.get $len) (i32.const 16))
              (then
                ;; the common case in Tracy's streams (5-25 byte matches at offsets >= 8): wild
                ;; 16 bytes; with offset >= 8 each load sees only finished output (the second one
                ;; may read what the first store wrote, which is the right byte)
                (i64.store (local.get $d) (i64.load (local.get $m)))
                (i64.store offset=8 (local.get $d) (i64.load offset=8 (local.get $m))))
              (else
                (if (i32.and
                      (i32.ge_u (local.get $offset) (local.get $len))
                      (i32.gt_u (local.get $len) (i32.const 64)))
                  (then
                    ;; long, and source and destination do not overlap: memmove = LZ4's forward
                    ;; copy (below 65 bytes the call costs more than the loop: stress decodes 6%
                    ;; faster with the threshold)
                    (memory.copy (local.get $d) (local.get $m) (local.get $len)))
                  (else
                    ;; 17..64 bytes, or overlapping with offset 8..len-1: forward 8 bytes at a
                    ;; time, each load behind the stores by >= 8 bytes (wild tail < 8)
                    (loop $copy8
                      (i64.store (local.get $d) (i64.load (local.get $m)))
                      (local.set $d (i32.add (local.get $d) (i32.const 8)))
                      (local.set $m (i32.add (local.get $m) (i32.const 8)))
                      (br_if $copy8 (i32.lt_u (local.get $d) (local.get $e)))))))))
          (else
            (if (i32.eq (local.get $offset) (i32.const 1))
              (then
                ;; a run of one byte
                (memory.fill (local.get $d) (i32.load8_u (local.get $m)) (local.get $len)))
              (else
                ;; offsets 2..7: the first min(len, 8) bytes one at a time
                (local.set $k
                  (select (local.get $e) (i32.add (local.get $d) (i32.const 8))
                    (i32.lt_u (local.get $len) (i32.const 8))))
                (loop $copy1
                  (i32.store8 (local.get $d) (i32.load8_u (local.get $m)))
                  (local.set $d (i32.add (local.get $d) (i32.const 1)))
                  (local.set $m (i32.add (local.get $m) (i32.const 1)))
                  (br_if $copy1 (i32.lt_u (local.get $d) (local.get $k))))
                (if (i32.lt_u (local.get $d) (local.get $e))
                  (then
                    ;; then from the smallest multiple of the offset that is >= 8 (<= 14): the
                    ;; output from d - offset on repeats with the offset's period, and
                    ;; d - multiple >= (first d) - offset, so every byte read is source or output
                    (local.set $k (local.get $offset))
                    (loop $widen
                      (local.set $k (i32.add (local.get $k) (local.get $offset)))
                      (br_if $widen (i32.lt_u (local.get $k) (i32.const 8))))
                    (local.set $m (i32.sub (local.get $d) (local.get $k)))
                    (loop $copy8p
                      (i64.store (local.get $d) (i64.load (local.get $m)))
                      (local.set $d (i32.add (local.get $d) (i32.const 8)))
                      (local.set $m (i32.add (local.get $m) (i32.const 8)))
                      (br_if $copy8p (i32.lt_u (local.get $d) (local.get $e))))))))))
        (local.set $d (local.get $e))
        (br $sequence)))
    (local.get $d))
)
