# .polybridge_predict (Sources/PolybridgeModels/Scripts/predict.R), with R's own predict() as
# the oracle.
P <- predict_helpers

saved_model <- function(object) {
  path <- tempfile(fileext = ".rds")
  saveRDS(object, path)
  path
}

test_that("predict_rows is R's predict on the columns as a data frame", {
  path <- saved_model(lm(mpg ~ wt + hp + factor(cyl), data = mtcars))
  columns <- list(wt = c(2.6, 3.1, NA), hp = c(110, 150, 90), cyl = c(6, 8, 4))
  newdata <- as.data.frame(columns)
  expect_identical(P$predict_rows(path, columns, NULL, NULL)$fit, unname(predict(readRDS(path), newdata)))
  both <- P$predict_rows(path, columns, NULL, "prediction")
  expect_identical(cbind(both$fit, both$lwr, both$upr), unname(predict(readRDS(path), newdata, interval = "prediction")))
  glm_path <- saved_model(glm(am ~ wt + hp, family = binomial, data = mtcars))
  expect_identical(P$predict_rows(glm_path, columns[1:2], "link", NULL)$fit,
                   unname(predict(readRDS(glm_path), newdata, type = "link")))
  expect_error(P$predict_rows(path, list(wt = 3, hp = 100, cyl = 5), NULL, NULL), "factor\\(cyl\\) has new level 5")
})

test_that("a model file replaced is read again", {
  path <- saved_model(lm(mpg ~ wt, data = mtcars))
  first <- P$predict_rows(path, list(wt = 3), NULL, NULL)$fit
  Sys.sleep(0.01)
  saveRDS(lm(mpg ~ wt + 0, data = mtcars), path)
  expect_identical(P$predict_rows(path, list(wt = 3), NULL, NULL)$fit, unname(predict(lm(mpg ~ wt + 0, data = mtcars), data.frame(wt = 3))))
  expect_false(identical(first, P$predict_rows(path, list(wt = 3), NULL, NULL)$fit))
})

test_that("rowwise says whether a row's prediction depends on that row alone", {
  expect_true(P$rowwise(lm(mpg ~ wt + hp + factor(cyl), data = mtcars)))
  expect_true(P$rowwise(lm(mpg ~ log(wt) + I(hp^2) + wt:hp, data = mtcars)))
  expect_true(P$rowwise(lm(mpg ~ poly(wt, 2), data = mtcars)))
  expect_true(P$rowwise(glm(am ~ wt + offset(log(hp)), family = binomial, data = mtcars)))
  # The new data's own mean, scale or range: not row-wise.
  expect_false(P$rowwise(lm(mpg ~ I(wt - mean(wt)), data = mtcars)))
  expect_false(P$rowwise(lm(mpg ~ scale(wt), data = mtcars)))
  expect_false(P$rowwise(loess(mpg ~ wt, data = mtcars)))
  # Offsets are evaluated on the new data too: in the call, or in the formula.
  expect_true(P$rowwise(glm(am ~ wt, family = binomial, data = mtcars, offset = log(hp))))
  expect_false(P$rowwise(glm(am ~ wt, family = binomial, data = mtcars, offset = log(hp) - mean(log(hp)))))
  expect_false(P$rowwise(lm(mpg ~ wt + offset(hp / sum(hp)), data = mtcars)))
  # A constant vector recycled by row position, and %in% a column.
  expect_false(P$rowwise(lm(mpg ~ I(wt * c(1, 2)), data = mtcars)))
  expect_false(P$rowwise(lm(mpg ~ I(cyl %in% gear), data = mtcars)))
  expect_true(P$rowwise(lm(mpg ~ I(cyl %in% c(4, 6)), data = mtcars)))
  # A class whose own predict method R dispatches to.
  fake <- structure(lm(mpg ~ wt, data = mtcars), class = c("pb_fake", "lm"))
  registerS3method("predict", "pb_fake", function(object, ...) 0)
  expect_false(P$rowwise(fake))
  # The check's check: batching I(wt - mean(wt)) would change a row's prediction.
  centred <- lm(mpg ~ I(wt - mean(wt)), data = mtcars)
  expect_false(isTRUE(all.equal(predict(centred, data.frame(wt = 3)), predict(centred, data.frame(wt = c(3, 4)))[1], check.attributes = FALSE)))
})

test_that("describe names the inputs, their kinds and whether the model is row-wise", {
  described <- P$describe(saved_model(lm(mpg ~ wt + factor(cyl) + am, data = transform(mtcars, am = am == 1))))
  expect_identical(described, list(names = c("wt", "cyl", "am"), kinds = c("numeric", "numeric", "logical"), rowwise = TRUE))
  expect_error(P$describe(saved_model(list(a = 1))), "has no predict method")
  offset_model <- saved_model(glm(am ~ wt, family = binomial, data = mtcars, offset = log(hp)))
  expect_identical(P$describe(offset_model)$names, c("wt", "hp"))
  # A matrix that is not an interval is not read as one.
  three <- saved_model(lm(cbind(mpg, hp, qsec) ~ wt, data = mtcars))
  expect_identical(P$predict_rows(three, list(wt = 3), NULL, NULL), list(fit = unname(as.double(predict(readRDS(three), data.frame(wt = 3))))))
})
