;; Calls `log` with a message at 0x00FFFF00 of length 2^31 - 1, outside the
;; one 64 KiB page of memory. The host must trap instead of reading it.
(module
  (import "sandnotes:plugin/host@0.1.0" "log" (func $log (param i32 i32 i32)))
  (memory (export "memory") 1)
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (i32.const 1024))
  (func (export "run") (param i32 i32) (result i32)
    (call $log (i32.const 1) (i32.const 0x00ffff00) (i32.const 0x7fffffff))
    (i32.const 0)))
