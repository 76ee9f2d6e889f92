from arxivwatch.cli import main

main()
