.PHONY: setup run test

setup:
	./scripts/setup.sh

run: setup
	.venv/bin/resumeflow process examples/resume.pdf --job examples/job-backend-engineer.txt

test: setup
	./scripts/test.sh
