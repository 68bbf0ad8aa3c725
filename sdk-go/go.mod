module skill-engine/sdk-go

go 1.27
