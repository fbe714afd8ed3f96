;; `cabi_realloc` returns a pointer past the end of memory, so the host
;; cannot copy `args` into the guest. The host must trap instead of
;; writing outside the guest's memory.
(module
  (memory (export "memory") 1)
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (i32.const 0xfffffff0))
  (func (export "run") (param i32 i32) (result i32)
    (i32.const 0)))
