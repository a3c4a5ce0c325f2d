# Bad CSV rows are reported at the row's line and column in the CSV file.
credentials "subscribers" {
  file = "subscribers.csv"
  # ERROR subscribers.csv:4:17: Invalid HA1
  # ERROR subscribers.csv:5:1: Invalid CSV Row
  # ERROR subscribers.csv:6:1: Duplicate Credentials Row
  # ERROR subscribers.csv:7:51: Invalid HA1
}

aliases "dids" {
  file = "dids.csv"
  # ERROR dids.csv:3:1: Duplicate Alias
  # ERROR dids.csv:4:1: Invalid CSV Row
}

prefixes "owners" {
  file = "owners.csv"
  # ERROR owners.csv:3:1: Invalid Prefix
  # ERROR owners.csv:4:10: Invalid Member Name
}

credentials "missing" {
  file = "nowhere.csv" # ERROR 10: Cannot Read CSV File
}
