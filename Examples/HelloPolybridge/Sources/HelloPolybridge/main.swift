import Polybridge

// An R data frame goes to pandas, pandas adds a column, and the frame comes back to R.
let r = try RRuntime.shared()
let python = try PythonRuntime.shared()

_ = try await r.evaluate("""
    sales <- data.frame(region = factor(c("north", "south", "north")),
                        units = c(12L, 7L, NA),
                        price = c(2.5, 4, 3))
    """)
try await Bridge.assignToPython(fromR: "sales", as: "sales")
try python.exec("sales['revenue'] = sales['units'] * sales['price']")
try await Bridge.assignToR(python: try python.evaluateObject("sales"), as: "sales2")

print(try await r.evaluate("sales2$revenue").value)
print(try await r.evaluate("sales2$region").value)
let matches = try await r.eval("identical(sales2$revenue, sales$units * sales$price)", as: Bool.self)
print("pandas' revenue matches R's:", matches)
