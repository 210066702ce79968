// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "HelloPolybridge",
    platforms: [.macOS(.v14)],
    dependencies: [
        // A checkout of Polybridge in ../polybridge. The package identity used below is the
        // last component of this path (or of a url:), lowercased: "polybridge".
        .package(path: "../polybridge"),
    ],
    targets: [
        .executableTarget(name: "HelloPolybridge", dependencies: [
            .product(name: "Polybridge", package: "polybridge"),
        ]),
    ]
)
