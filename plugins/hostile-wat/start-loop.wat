;; A start function that never returns: it runs while the plugin is
;; instantiated, before `run` is called, and must be stopped by fuel.
(module
  (memory (export "memory") 1)
  (func $spin
    (loop $again
      (br $again)))
  (start $spin)
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (i32.const 1024))
  (func (export "run") (param i32 i32) (result i32)
    (i32.const 0)))
