source("helpers.R")

# Types and missing values the way R users want them: plan as a factor with basic as the
# reference level, region as a factor (empty text is missing), signup as a Date, tenure in
# months as of `as_of`; rows without usage are dropped.
clean <- function(d, as_of = "2024-12-31") {
  d$plan <- factor(d$plan, levels = c("basic", "pro", "team"))
  d$region[!is.na(d$region) & d$region == ""] <- NA
  d$region <- factor(d$region)
  d$signup_date <- as.Date(d$signup_date)
  d$tenure_months <- months_between(d$signup_date, as.Date(as_of))
  d <- d[!is.na(d$monthly_usage_gb), ]
  d$usage_gb <- d$monthly_usage_gb
  d$monthly_usage_gb <- NULL
  d$tickets <- d$support_tickets
  d$support_tickets <- NULL
  d
}
