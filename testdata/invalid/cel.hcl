# CEL errors are reported at their column inside the quoted string.
trusted "asterisk" { sources = ["10.0.0.0/24"] }

filter "syntax" {
  when  = "method == 'INVITE' &&" # ERROR 33: Invalid Condition
  reply = 403
}
filter "field" {
  when  = "ruri.usr == 'alice'" # ERROR 16: Invalid Condition
  reply = 403
}
filter "not-bool" {
  when  = "method" # ERROR 11: Condition Is Not Bool
  reply = 403
}
filter "unknown-function" {
  when  = "is_locl(ruri.host)" # ERROR 19: Invalid Condition
  reply = 403
}
filter "unicode" {
  when  = "user_agent == 'grüß' && ruri.hots == 'x'" # ERROR 40: Invalid Condition
  reply = 403
}

route "trusted-typo" {
  when = "source_in('asterix') && method == 'INVITE'" # ERROR 21: Unknown Trusted Group
  to   = registrar
}

# An escape inside the string shifts offsets, so the whole string is
# pointed at instead of a guessed column.
route "escaped" {
  when = "method == \"INVITE\" && ruri.usr == 'x'" # ERROR 10: Invalid Condition
  to   = registrar
}

route "heredoc" {
  when = <<-EOT
    method == 'INVITE' &&
    ruri.usr == 'x'
  EOT
  # ERROR cel.hcl:38:3: Invalid Condition
  to = registrar
}

registrar {}
