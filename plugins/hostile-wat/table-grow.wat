;; Asks for 1,000,000 more table elements in one instruction: past the
;; default table limit of 10,000 elements, within the default fuel budget.
(module
  (memory (export "memory") 1)
  (table $table 1 funcref)
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (i32.const 1024))
  (func (export "run") (param i32 i32) (result i32)
    (drop
      (table.grow $table (ref.null func) (i32.const 1000000)))
    ;; Bytes 0 to 15 are zero: `ok(text(""))`.
    (i32.const 0)))
