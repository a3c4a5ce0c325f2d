filter "methods" {
  when = "!(method in ['INVITE', 'ACK'])"
  reply = 405
  reason = "Method not allowed"
}
filter "scanners" { 
  when = "user_agent.contains('friendly-scanner')"
  drop = true
  log = "SECURITY: friendly scanner"
}
