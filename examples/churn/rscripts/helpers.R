# Months between two dates, as the analysts define tenure.
months_between <- function(from, to) as.numeric(to - from) / 30.44
