module libicms.org/icms

go 1.19
