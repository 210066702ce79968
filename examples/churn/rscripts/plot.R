# A coefficient plot (estimates with 95% intervals) saved as PNG with R's png device; returns
# the table it drew.
plot_coefficients <- function(coefficients, file = "coefficients.png") {
  dir.create(dirname(file), showWarnings = FALSE, recursive = TRUE)
  d <- coefficients[coefficients$term != "(Intercept)", ]
  lo <- d$estimate - 1.96 * d$std_error
  hi <- d$estimate + 1.96 * d$std_error
  k <- nrow(d)
  grDevices::png(file, width = 900, height = 100 + 30 * k, res = 110, type = if (capabilities("cairo")) "cairo" else NULL)
  on.exit(grDevices::dev.off())
  graphics::par(mar = c(4, 10, 2, 1))
  graphics::plot(range(lo, hi, 0), c(0.5, k + 0.5), type = "n", yaxt = "n", ylab = "", xlab = "estimate (95% CI)",
                 main = "churn_score model")
  graphics::axis(2, at = k:1, labels = d$term, las = 1)
  graphics::abline(v = 0, lty = 2, col = "grey60")
  graphics::segments(lo, k:1, hi, k:1, lwd = 2, col = "steelblue")
  graphics::points(d$estimate, k:1, pch = 19)
  data.frame(term = d$term, low = lo, high = hi, file = file)
}
