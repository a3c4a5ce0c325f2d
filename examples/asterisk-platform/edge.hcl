# The edge: listeners, request filters, who is trusted, digest auth, DID
# mapping and the registrar. Files are read in lexical order; filters and
# routes are evaluated first match wins in that order.

proxy {
  listen       = ["udp:0.0.0.0:5060", "tcp:0.0.0.0:5060"]
  advertise    = "sip.example.com"      # the one address clients and carriers see
  domains      = ["example.com"]        # local domains
  admin        = "127.0.0.1:8080"       # admin API and metrics
  ring_timeout = "3m"                   # Timer C
  exit         = "udp:203.0.113.5:5060" # the one socket carriers see

  max_call_duration = "4h" # a lost BYE frees its carrier's calls slot
}

filter "methods" {
  when   = "!(method in ['INVITE', 'ACK', 'CANCEL', 'REGISTER', 'OPTIONS', 'BYE'])"
  reply  = 405
  reason = "Method not allowed"
}

filter "scanners" {
  when = "user_agent.contains('friendly-scanner')"
  drop = true
  log  = "SECURITY: friendly scanner"
}

filter "ip-in-from" {
  when   = "from.host.matches('^[0-9]{1,3}[.][0-9]{1,3}[.][0-9]{1,3}')"
  reply  = 403
  reason = "Use domain name in FROM"
}

filter "preloaded-route" {
  when   = "!in_dialog && has_header('Route') && method != 'ACK'"
  reply  = 403
  reason = "Preload Route denied"
}

trusted "carriers" { sources = ["198.51.100.0/24"] } # IP auth for trunks
trusted "asterisk" { sources = ["10.0.0.0/24"] }

credentials "subscribers" { # digest credentials: user,domain,ha1
  file      = "subscribers.csv"
  cache_ttl = "1h"
}

auth "endpoints" {
  when        = "!in_dialog && method in ['INVITE', 'REGISTER']"
  trust       = [trusted.carriers, trusted.asterisk, carrier.bravo] # these sources skip the challenge
  credentials = credentials.subscribers
  realm       = "example.com"
}

aliases "dids" { # DID mapping: +15559870001 -> alice
  file = "dids.csv"
  when = "ruri.user.matches('^[+][0-9]+$')"
}

registrar {
  max_contacts = 5
  max_expires  = "1h"
  min_expires  = "60s" # shorter gets 423 Interval Too Brief
}
