module github.com/leadmesh/leadmesh/examples/go

go 1.26.0

require github.com/leadmesh/leadmesh/clients/go v0.0.0

require (
	buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go v1.36.12-20260825204119-511051f7f437.2 // indirect
	golang.org/x/net v0.60.0 // indirect
	golang.org/x/sys v0.48.0 // indirect
	golang.org/x/text v0.42.0 // indirect
	google.golang.org/genproto/googleapis/rpc v0.0.0-20260817212433-ac3dfec99bb1 // indirect
	google.golang.org/grpc v1.85.0 // indirect
	google.golang.org/protobuf v1.36.12 // indirect
)

// The client from this repository; another team's module requires a tagged version instead.
replace github.com/leadmesh/leadmesh/clients/go => ../../clients/go
