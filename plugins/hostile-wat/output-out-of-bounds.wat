;; `run` returns `ok(text(s))` where `s` starts 16 bytes before the 4 GiB
;; end of the address space and is 4 KiB long, far past the one 64 KiB
;; page of memory. The host must not read outside the guest's memory.
(module
  (memory (export "memory") 1)
  ;; The result at 32: ok, text, pointer 0xFFFFFFF0, length 4096.
  (data (i32.const 32) "\00\00\00\00" "\00\00\00\00" "\f0\ff\ff\ff" "\00\10\00\00")
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (i32.const 1024))
  (func (export "run") (param i32 i32) (result i32)
    (i32.const 32)))
