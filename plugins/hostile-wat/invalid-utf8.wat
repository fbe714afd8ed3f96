;; `run` returns `ok(text(s))` where `s` is the bytes FF FE FD, which are
;; not UTF-8. The host must reject them when it lifts the string.
(module
  (memory (export "memory") 1)
  (data (i32.const 16) "\ff\fe\fd")
  ;; The result at 32: ok, text, pointer 16, length 3.
  (data (i32.const 32) "\00\00\00\00" "\00\00\00\00" "\10\00\00\00" "\03\00\00\00")
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (i32.const 1024))
  (func (export "run") (param i32 i32) (result i32)
    (i32.const 32)))
