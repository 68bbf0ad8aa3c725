module go-skill

go 1.27

require skill-engine/sdk-go v0.0.0

replace skill-engine/sdk-go => ../../sdk-go
