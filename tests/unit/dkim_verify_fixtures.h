/* Written by tests/unit/dkim_verify_gen.py (dkimpy 1.x): do not edit.
 * Keys are published at SELECTOR._domainkey.example.com; t=1700000000. */
#define FX_T0 1700000000

#define FX_KEY_RSA2048 \
	"v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAlg97QL0fYqaifPaPsr7rIssGy7IRgC3TNTTuR2UgSPOJXcO8tT1mTEUjYTOq8Zd9piQRXQRuHvLC+LfDnMRv4/+znkVt3HbOlS6XAXLUd+iPfut9Rnq0cuIiEqbCKTHjGGHFPuKT9AZEKWPOabY0JT8flhdiNNZG1CMs1XvzbVCIAL+d1/kiq/B3pMJKvXrGN4kU8HYZMB6rrhMxYhJjwMWEvs7t5/qs5YyTp98h39hbvgDbxeHh5nuAVXyScvWqyMF3wnr++eQoC3U0sNgJS/7nW8GQTBxEAoXmpfvm31AwQ+hZmYGddamp3IpTU0jRICs4IbhXpcEelDiR2t8wKQIDAQAB"
#define FX_KEY_RSA1024 \
	"v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQCkvuV+mWBaaorBL6K3AUirEVW3g9TNYgWdzEbjSUbA7NAxtsVv6oI2PPZJkgUOI9g3IfCzJxdeoJNmDg+O+QDze8Nf/F35iuGBjFa66crb8QOe6mFE+9wttg3cfZ9P7jvo6DL22BqKNpUWNFwlAtPUA9xdjWC0SXaMp9yfj2O9HQIDAQAB"
#define FX_KEY_RSA512 \
	"v=DKIM1; k=rsa; p=MFwwDQYJKoZIhvcNAQEBBQADSwAwSAJBAKapSzMk+0FF1Agh9XaFvmwbqJroXUCyvCXoQIncZpEozrxU/+JMM5HLUj7AKSFvM/ofEjzurqau3VTxut4ikHMCAwEAAQ=="
#define FX_KEY_ED \
	"v=DKIM1; k=ed25519; p=puKskGfiQh9idYssmcHmPBlwOcOQaTt8RBcTciHgR5M="
#define FX_KEY_KMISMATCH \
	"v=DKIM1; k=ed25519; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAlg97QL0fYqaifPaPsr7rIssGy7IRgC3TNTTuR2UgSPOJXcO8tT1mTEUjYTOq8Zd9piQRXQRuHvLC+LfDnMRv4/+znkVt3HbOlS6XAXLUd+iPfut9Rnq0cuIiEqbCKTHjGGHFPuKT9AZEKWPOabY0JT8flhdiNNZG1CMs1XvzbVCIAL+d1/kiq/B3pMJKvXrGN4kU8HYZMB6rrhMxYhJjwMWEvs7t5/qs5YyTp98h39hbvgDbxeHh5nuAVXyScvWqyMF3wnr++eQoC3U0sNgJS/7nW8GQTBxEAoXmpfvm31AwQ+hZmYGddamp3IpTU0jRICs4IbhXpcEelDiR2t8wKQIDAQAB"
#define FX_KEY_TESTING \
	"v=DKIM1; k=rsa; t=y; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAlg97QL0fYqaifPaPsr7rIssGy7IRgC3TNTTuR2UgSPOJXcO8tT1mTEUjYTOq8Zd9piQRXQRuHvLC+LfDnMRv4/+znkVt3HbOlS6XAXLUd+iPfut9Rnq0cuIiEqbCKTHjGGHFPuKT9AZEKWPOabY0JT8flhdiNNZG1CMs1XvzbVCIAL+d1/kiq/B3pMJKvXrGN4kU8HYZMB6rrhMxYhJjwMWEvs7t5/qs5YyTp98h39hbvgDbxeHh5nuAVXyScvWqyMF3wnr++eQoC3U0sNgJS/7nW8GQTBxEAoXmpfvm31AwQ+hZmYGddamp3IpTU0jRICs4IbhXpcEelDiR2t8wKQIDAQAB"
#define FX_KEY_STRICT \
	"v=DKIM1; k=rsa; t=s; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAlg97QL0fYqaifPaPsr7rIssGy7IRgC3TNTTuR2UgSPOJXcO8tT1mTEUjYTOq8Zd9piQRXQRuHvLC+LfDnMRv4/+znkVt3HbOlS6XAXLUd+iPfut9Rnq0cuIiEqbCKTHjGGHFPuKT9AZEKWPOabY0JT8flhdiNNZG1CMs1XvzbVCIAL+d1/kiq/B3pMJKvXrGN4kU8HYZMB6rrhMxYhJjwMWEvs7t5/qs5YyTp98h39hbvgDbxeHh5nuAVXyScvWqyMF3wnr++eQoC3U0sNgJS/7nW8GQTBxEAoXmpfvm31AwQ+hZmYGddamp3IpTU0jRICs4IbhXpcEelDiR2t8wKQIDAQAB"
#define FX_KEY_REVOKED \
	"v=DKIM1; k=rsa; p="

#define FX_RSA2048_RR \
	"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.com;\r\n" \
	" i=@example.com; q=dns/txt; s=rsa2048; t=1700000000; h=from : to :\r\n" \
	" subject : date : message-id;\r\n" \
	" bh=+wEd9b3Dl2ZBaz3qWPVZXh3h5DFSdF9pkhSSlqK+aak=;\r\n" \
	" b=fpY2PIW4SKwuLh61MR1/ewVa6uvyJAzQTYfyQmySJ8tVIcC50rRGETPLRpncbTgGqJ2hK\r\n" \
	" m5h9K9li1mkejvikRJBFdLhU8blPMYnZEPqgR7aLBwQ30EDXFFs/S98EopcnfnBOAccxYLf\r\n" \
	" zPx1QvcJKC1eUMjSB20xZ369J3cJS8GU9WdGzJjDDQlNMPgErGEOQXLIhyc1XqX8Uec8huY\r\n" \
	" JNvM57s/glE6wvoabwxaAFOTLCWuvc56J0Y0k1UMnCRi9nCXjQHpt50RR57kwt/P6vBhZyz\r\n" \
	" CeBgPu4cWwNtwPewVTLsQX73JdQtmoeg/SolCgWgIXAf168MKoa02gr3p/bw==\r\n" \
	"From: Alice <alice@example.com>\r\n" \
	"To: bob@example.net\r\n" \
	"Subject: Fixture\r\n" \
	" message \t folded\r\n" \
	"Date: Mon, 1 Jan 2024 00:00:00 +0000\r\n" \
	"Message-ID: <fx1@example.com>\r\n" \
	"\r\n" \
	"Hello Bob,\r\n" \
	"\r\n" \
	"  This  line has   spaces \t\r\n" \
	"Bye.\r\n" \
	"\r\n" \
	"\r\n"

#define FX_RSA2048_SS \
	"DKIM-Signature: v=1; a=rsa-sha256; c=simple/simple; d=example.com;\r\n" \
	" i=@example.com; q=dns/txt; s=rsa2048; t=1700000000; h=from : to :\r\n" \
	" subject : date : message-id;\r\n" \
	" bh=/PQyK9NZTKkl0ATRcaJf2jNBPxfGAed1/K2mnYxuoDs=;\r\n" \
	" b=YhA+2O7nuQW41LoDQMPXbhmLzbF4+YMbSap7ZaSmDREk7FF+2IAkJ0c/0iMg87h7U71Kj\r\n" \
	" pAEz5zG2YPpctKBkWwdHGQOnESNLCHNNn6sHJr8NekyIX9YzM/W4UnmbirnuLBXr8YTWvZN\r\n" \
	" ShIce8YB2AauS5S6mUGoVgW4U6bvmqVrNBbwwV2D3aHM7k92bPD18R1F6cXTMC7tlqbVpQ+\r\n" \
	" UGdQNkNUBiP+MKrdehWS31+c9gZ0HsDNRbNmD5/7/o84wKnnhCE4OWqASIkF9+8RrHGmCK8\r\n" \
	" g9APw5mq7LPvQttCm8eyRrp+mFK6/vKPg+wRxXGIrJTcxXI5I5WiHoN4OVlw==\r\n" \
	"From: Alice <alice@example.com>\r\n" \
	"To: bob@example.net\r\n" \
	"Subject: Fixture\r\n" \
	" message \t folded\r\n" \
	"Date: Mon, 1 Jan 2024 00:00:00 +0000\r\n" \
	"Message-ID: <fx1@example.com>\r\n" \
	"\r\n" \
	"Hello Bob,\r\n" \
	"\r\n" \
	"  This  line has   spaces \t\r\n" \
	"Bye.\r\n" \
	"\r\n" \
	"\r\n"

#define FX_RSA2048_RS \
	"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/simple; d=example.com;\r\n" \
	" i=@example.com; q=dns/txt; s=rsa2048; t=1700000000; h=from : to :\r\n" \
	" subject : date : message-id;\r\n" \
	" bh=/PQyK9NZTKkl0ATRcaJf2jNBPxfGAed1/K2mnYxuoDs=;\r\n" \
	" b=fgVX1arJeOjscB6/NrVQ4yneY6H31hu0VKPGn2N5qgImmK9tn1AKoIOmQFnT2mEiLjFv2\r\n" \
	" QhsbpRac0BM8AiCMyiyGEOvN4u50u+gwCyvmez7ngQX0AFhm3dNGp3ULXMxQuWM7KFxfRbO\r\n" \
	" P5k7etSSFKjPm1PE21dk9GP+0rpZDIHtUxKeFBlDT5M1AVgFXANhCaEHI+yeDTqUjYbrJ8k\r\n" \
	" dOFhFI3gTWNNbtl4n9Z/EonTk3jezt+cjFJ9RTdGwfidtHhMMaLMJBDwPx/uieNCSERNBex\r\n" \
	" A14qk/u+vvR4JhBOIL7X7TlVfDQSFJimHvHmbba0w0rYWZUgsAgh722Rd1zw==\r\n" \
	"From: Alice <alice@example.com>\r\n" \
	"To: bob@example.net\r\n" \
	"Subject: Fixture\r\n" \
	" message \t folded\r\n" \
	"Date: Mon, 1 Jan 2024 00:00:00 +0000\r\n" \
	"Message-ID: <fx1@example.com>\r\n" \
	"\r\n" \
	"Hello Bob,\r\n" \
	"\r\n" \
	"  This  line has   spaces \t\r\n" \
	"Bye.\r\n" \
	"\r\n" \
	"\r\n"

#define FX_RSA1024_RR \
	"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.com;\r\n" \
	" i=@example.com; q=dns/txt; s=rsa1024; t=1700000000; h=from : to :\r\n" \
	" subject : date : message-id;\r\n" \
	" bh=+wEd9b3Dl2ZBaz3qWPVZXh3h5DFSdF9pkhSSlqK+aak=;\r\n" \
	" b=ZMJB/ncrxuHCW7LMY/ZPeX8yt52rTKp1Zp2XvUmGcmYtSBpDZjtm7OhBV6flpfK3FJZ+R\r\n" \
	" 62YGrxxWnLmIAlofYkZSE/BTnLYIfBlHSq9SN5Z8Lzc2VRgmheNVPA5QaHrvLqLK9Mbmurr\r\n" \
	" LsaD5gcNJW7BbHAOfdYv23J2foVTsC4=\r\n" \
	"From: Alice <alice@example.com>\r\n" \
	"To: bob@example.net\r\n" \
	"Subject: Fixture\r\n" \
	" message \t folded\r\n" \
	"Date: Mon, 1 Jan 2024 00:00:00 +0000\r\n" \
	"Message-ID: <fx1@example.com>\r\n" \
	"\r\n" \
	"Hello Bob,\r\n" \
	"\r\n" \
	"  This  line has   spaces \t\r\n" \
	"Bye.\r\n" \
	"\r\n" \
	"\r\n"

#define FX_ED_RR \
	"DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed; d=example.com;\r\n" \
	" i=@example.com; q=dns/txt; s=ed; t=1700000000; h=from : to : subject :\r\n" \
	" date : message-id; bh=+wEd9b3Dl2ZBaz3qWPVZXh3h5DFSdF9pkhSSlqK+aak=;\r\n" \
	" b=2VNtRnDUBOEybG7cLeOcUxG2bgDGW0sI3AzDHslawiWUrLfX2LXZUMMa0rKrX4PTTxcyV\r\n" \
	" UyLHrZjUQuYAL5OAQ==\r\n" \
	"From: Alice <alice@example.com>\r\n" \
	"To: bob@example.net\r\n" \
	"Subject: Fixture\r\n" \
	" message \t folded\r\n" \
	"Date: Mon, 1 Jan 2024 00:00:00 +0000\r\n" \
	"Message-ID: <fx1@example.com>\r\n" \
	"\r\n" \
	"Hello Bob,\r\n" \
	"\r\n" \
	"  This  line has   spaces \t\r\n" \
	"Bye.\r\n" \
	"\r\n" \
	"\r\n"

#define FX_ED_SS \
	"DKIM-Signature: v=1; a=ed25519-sha256; c=simple/simple; d=example.com;\r\n" \
	" i=@example.com; q=dns/txt; s=ed; t=1700000000; h=from : to : subject :\r\n" \
	" date : message-id; bh=/PQyK9NZTKkl0ATRcaJf2jNBPxfGAed1/K2mnYxuoDs=;\r\n" \
	" b=f4HpL9NjJcMq5V6F/I0gswtuKBj82EzPInnHTX+N82a34LVMzB5EgN5D5B+wZTulzvoe4\r\n" \
	" Ixd41GZYQzB9lc+CQ==\r\n" \
	"From: Alice <alice@example.com>\r\n" \
	"To: bob@example.net\r\n" \
	"Subject: Fixture\r\n" \
	" message \t folded\r\n" \
	"Date: Mon, 1 Jan 2024 00:00:00 +0000\r\n" \
	"Message-ID: <fx1@example.com>\r\n" \
	"\r\n" \
	"Hello Bob,\r\n" \
	"\r\n" \
	"  This  line has   spaces \t\r\n" \
	"Bye.\r\n" \
	"\r\n" \
	"\r\n"

#define FX_LEN_RR \
	"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.com;\r\n" \
	" i=@example.com; l=43; q=dns/txt; s=rsa2048; t=1700000000; h=from : to\r\n" \
	" : subject : date : message-id;\r\n" \
	" bh=+wEd9b3Dl2ZBaz3qWPVZXh3h5DFSdF9pkhSSlqK+aak=;\r\n" \
	" b=gisFnCKQDS6SOsOgc7wTy6wqPFJUuZYTk3zRd9hWqHKS0RzOKJea0jMsRfxFcbgFQnX+/\r\n" \
	" SZp9u95zFECajY2MnTxVspJQZqOUv9F6ai7vC1qxdweUtzdg88bVh+aVi2RQT3BzNtCNdb2\r\n" \
	" hDL3AOtB/8z0e20e9k17CXFNEBe2nY8SpvlUMJbdALQMaj+Fs7u09I5ETsneN5t2VluzryC\r\n" \
	" haiD84S9YqRU12p/8t9/RmTSlI3kkL7kUxiYw4V31xWB8sl6YS9PqWa6GUNNWlThSZkcmLz\r\n" \
	" R9i8BVIhhVx7LiP9D2S3O5MZVHC8RMCfvaPL0iariP7iAlDyR0Cn+X/fVhMg==\r\n" \
	"From: Alice <alice@example.com>\r\n" \
	"To: bob@example.net\r\n" \
	"Subject: Fixture\r\n" \
	" message \t folded\r\n" \
	"Date: Mon, 1 Jan 2024 00:00:00 +0000\r\n" \
	"Message-ID: <fx1@example.com>\r\n" \
	"\r\n" \
	"Hello Bob,\r\n" \
	"\r\n" \
	"  This  line has   spaces \t\r\n" \
	"Bye.\r\n" \
	"\r\n" \
	"\r\n"

#define FX_LEN_SS \
	"DKIM-Signature: v=1; a=rsa-sha256; c=simple/simple; d=example.com;\r\n" \
	" i=@example.com; l=49; q=dns/txt; s=rsa2048; t=1700000000; h=from : to\r\n" \
	" : subject : date : message-id;\r\n" \
	" bh=/PQyK9NZTKkl0ATRcaJf2jNBPxfGAed1/K2mnYxuoDs=;\r\n" \
	" b=CpquNF9hvGO0iya5MqJt0S/UrxY4mfFmxJEzrDEh0Sy2Xx5Zvix6sRCL4FMZIa2gUMmQW\r\n" \
	" W3gjc6Qrbn9x3dVND5N6txKq+T6xZO8GLNegyliwAMPlb2tZ/0vTGTWSMa+oN45mCf9UOWW\r\n" \
	" AnWnSStwpjJB0gklz0OTu4nxiGmBXEjQtI8g3JmQ8CunNkHtpIQCECb4xTPrjZrFTvzV1fF\r\n" \
	" F1ZWvD9Maw5Vvc0q4/KxB6Zu5woJB+TaoKyVsUyNn6EXlNu37csWTfqqOo1n+iNnhEXtrJP\r\n" \
	" ZBjU7UVuO8zt+eygacd+FOl7tlrnsYqXiOF5m8Rpha6lFIa6rndjxtghX+jQ==\r\n" \
	"From: Alice <alice@example.com>\r\n" \
	"To: bob@example.net\r\n" \
	"Subject: Fixture\r\n" \
	" message \t folded\r\n" \
	"Date: Mon, 1 Jan 2024 00:00:00 +0000\r\n" \
	"Message-ID: <fx1@example.com>\r\n" \
	"\r\n" \
	"Hello Bob,\r\n" \
	"\r\n" \
	"  This  line has   spaces \t\r\n" \
	"Bye.\r\n" \
	"\r\n" \
	"\r\n"

#define FX_IDENT \
	"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.com;\r\n" \
	" i=alice@mail.example.com; q=dns/txt; s=rsa2048; t=1700000000; h=from :\r\n" \
	" to : subject : date : message-id;\r\n" \
	" bh=+wEd9b3Dl2ZBaz3qWPVZXh3h5DFSdF9pkhSSlqK+aak=;\r\n" \
	" b=hwOj7+MEBDfqJfsQUi77uk/1bLRMRR/o943ImmFCinR2wapFrwkxmD7hk4dHZ0lciYMNk\r\n" \
	" js2WUyIJTpNZqUM5kqvYOVmC5xg9CtscDJ32cx5vFb/dAH3b1Zft4iQh70bb23XCoqVvm+N\r\n" \
	" w3DDJoykRmJonvEK4Ck1T0ZT7TjQfe7Edl1T/2GDtvUX7v19X6dMUCAMFuUL0AZeG2xM3Hb\r\n" \
	" 8KZD+AHwJO6pg0KIloqFyfUbjyTkjEgVoi0JTXwpMJS7fEig5bTZSW4C/qkk904dnjTFdN4\r\n" \
	" YiMQtgORsJgZ8dL9aUp+Odhg884x7fjMERBCobzVMKVaq8dG2RRG7jR5gBDQ==\r\n" \
	"From: Alice <alice@example.com>\r\n" \
	"To: bob@example.net\r\n" \
	"Subject: Fixture\r\n" \
	" message \t folded\r\n" \
	"Date: Mon, 1 Jan 2024 00:00:00 +0000\r\n" \
	"Message-ID: <fx1@example.com>\r\n" \
	"\r\n" \
	"Hello Bob,\r\n" \
	"\r\n" \
	"  This  line has   spaces \t\r\n" \
	"Bye.\r\n" \
	"\r\n" \
	"\r\n"

#define FX_TWO \
	"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.com;\r\n" \
	" i=@example.com; q=dns/txt; s=rsa1024; t=1700000000; h=from : to :\r\n" \
	" subject : date : message-id;\r\n" \
	" bh=+wEd9b3Dl2ZBaz3qWPVZXh3h5DFSdF9pkhSSlqK+aak=;\r\n" \
	" b=hpj+zBHJu3hCjR2VnhRDjpQmAOXkDCiyFKumdGurHr/kuAQ2zAxQzyUaHxWQLMt4aQA2f\r\n" \
	" OWmB+xMofkyQDjTaIUqs50RH6ImEfLYh5UlUaCCMoqyG9hLfOE7qwujExVB4QGvrtLGhTqO\r\n" \
	" AP8x1tGJCXjD8h6bYjQ5k1IycRibwJQ=\r\n" \
	"DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed; d=example.com;\r\n" \
	" i=@example.com; q=dns/txt; s=ed; t=1700000000; h=from : to : subject :\r\n" \
	" date : message-id; bh=+wEd9b3Dl2ZBaz3qWPVZXh3h5DFSdF9pkhSSlqK+aak=;\r\n" \
	" b=2VNtRnDUBOEybG7cLeOcUxG2bgDGW0sI3AzDHslawiWUrLfX2LXZUMMa0rKrX4PTTxcyV\r\n" \
	" UyLHrZjUQuYAL5OAQ==\r\n" \
	"From: Alice <alice@example.com>\r\n" \
	"To: bob@example.net\r\n" \
	"Subject: Fixture\r\n" \
	" message \t folded\r\n" \
	"Date: Mon, 1 Jan 2024 00:00:00 +0000\r\n" \
	"Message-ID: <fx1@example.com>\r\n" \
	"\r\n" \
	"Hello Bob,\r\n" \
	"\r\n" \
	"  This  line has   spaces \t\r\n" \
	"Bye.\r\n" \
	"\r\n" \
	"\r\n"

#define FX_EXPIRING \
	"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.com;\r\n" \
	" i=@example.com; q=dns/txt; s=rsa2048; t=1700000000; x=1700000100;\r\n" \
	" h=from : to : subject : date : message-id;\r\n" \
	" bh=+wEd9b3Dl2ZBaz3qWPVZXh3h5DFSdF9pkhSSlqK+aak=;\r\n" \
	" b=A8oglfClVWol/vsqkpw1NRi9+qmr+DiliJn0EZoI7iwfYbh7SjbJ01n18DZ359jnV4pw6\r\n" \
	" Pl3w0HETLHYYlpehIgF0j0x6bYe8qhb2ptAYzAy/dg9MgCy9AloxgQZ7NK4JQjG0AFjVPui\r\n" \
	" EsTQVdi026x5GUIeQSWDGtP2q/Y8ft10GK8JYS3VnMHJizfMhKxOqkrfUZQI6y9Jy92dyjM\r\n" \
	" Esejt3aUniiC+apaTcqu2S5eBpf5uYL/D+3KyADvrtTD1+y0WMzzgsWKFCEpuYFhqdA+d59\r\n" \
	" E7F1aWq/yDl6u0IWun0Evl7XW3AcBhR2gXtbM4lXN2JgjiPcYqjnRNUarAvA==\r\n" \
	"From: Alice <alice@example.com>\r\n" \
	"To: bob@example.net\r\n" \
	"Subject: Fixture\r\n" \
	" message \t folded\r\n" \
	"Date: Mon, 1 Jan 2024 00:00:00 +0000\r\n" \
	"Message-ID: <fx1@example.com>\r\n" \
	"\r\n" \
	"Hello Bob,\r\n" \
	"\r\n" \
	"  This  line has   spaces \t\r\n" \
	"Bye.\r\n" \
	"\r\n" \
	"\r\n"

#define FX_REVOKED \
	"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.com;\r\n" \
	" i=@example.com; q=dns/txt; s=revoked; t=1700000000; h=from : to :\r\n" \
	" subject : date : message-id;\r\n" \
	" bh=+wEd9b3Dl2ZBaz3qWPVZXh3h5DFSdF9pkhSSlqK+aak=;\r\n" \
	" b=ITYYKBQ3yTD7kUSYxlsxuAxh18f5+SWb4xXB7QE6kC1AEo121uJFYw/4Q6QfPGFu0tULH\r\n" \
	" 6UAPtOXlfV3SdbpYuNuGcXHd4WidhpCjdQ2Rzw5OQ6f8mi6NVifSXUGHkEky9w5I5houpZ+\r\n" \
	" K93p3WvQ7xmV9uoZGfJko+UIg4WRRGRcexfo31LqWgXSFjDG4no8KHCMjSUg1vFu0/OTlYQ\r\n" \
	" hI/FAyrXAUTd3eZBdGceRLkkmSycEx0HGWZ4l0U4c/b5fQ0fk1ZPVRXLAoHoIgBNjKyO07I\r\n" \
	" VSPDZDswNls+O7PIbGaKm659INtqNUpRB5mB20r6Tmqb1tDvlwRn065pebng==\r\n" \
	"From: Alice <alice@example.com>\r\n" \
	"To: bob@example.net\r\n" \
	"Subject: Fixture\r\n" \
	" message \t folded\r\n" \
	"Date: Mon, 1 Jan 2024 00:00:00 +0000\r\n" \
	"Message-ID: <fx1@example.com>\r\n" \
	"\r\n" \
	"Hello Bob,\r\n" \
	"\r\n" \
	"  This  line has   spaces \t\r\n" \
	"Bye.\r\n" \
	"\r\n" \
	"\r\n"

#define FX_MISSING \
	"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.com;\r\n" \
	" i=@example.com; q=dns/txt; s=missing; t=1700000000; h=from : to :\r\n" \
	" subject : date : message-id;\r\n" \
	" bh=+wEd9b3Dl2ZBaz3qWPVZXh3h5DFSdF9pkhSSlqK+aak=;\r\n" \
	" b=PHXSDhsuuOYRrC3fyE5nya1kOKpJ20l3p8e7VNLbkc5IxSr0SIoo6MD1lmg6H2vunZ0S0\r\n" \
	" wwPcuiLC3gPH/3mrj8Xz/xXFN7McihcaivUAquTPYlihpcwXa0s1Of5RS2xZyMYd9oZf9S+\r\n" \
	" XFPLhjlziQ4T0tOuUk8n/cBoNEGVL7JRJjPJwA2CifZOsLthhHU97uZSSO2rIyMTri3R5rQ\r\n" \
	" OLAqvXyj7Gd8wSiEjxK0+BOgM03OG2CXtFY3PJ16t+TUA9nn6NXfkPOBgrbvc7RraolFvs2\r\n" \
	" 29h89gufG5C9qR3KmKND8T7D1j+XxojzTTItaO7YasfmzI2CRQWfYLo58xXw==\r\n" \
	"From: Alice <alice@example.com>\r\n" \
	"To: bob@example.net\r\n" \
	"Subject: Fixture\r\n" \
	" message \t folded\r\n" \
	"Date: Mon, 1 Jan 2024 00:00:00 +0000\r\n" \
	"Message-ID: <fx1@example.com>\r\n" \
	"\r\n" \
	"Hello Bob,\r\n" \
	"\r\n" \
	"  This  line has   spaces \t\r\n" \
	"Bye.\r\n" \
	"\r\n" \
	"\r\n"

#define FX_TEMP \
	"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.com;\r\n" \
	" i=@example.com; q=dns/txt; s=temp; t=1700000000; h=from : to : subject\r\n" \
	" : date : message-id; bh=+wEd9b3Dl2ZBaz3qWPVZXh3h5DFSdF9pkhSSlqK+aak=;\r\n" \
	" b=LcxuAr5GSu6ay7OOZdFRSRLn5D/m8NX+YhyCnomS+AKrhg2wnLgpFQg+BhBHtYUPwbHUL\r\n" \
	" CrhJLAFDU44FoPELCrGbTMhXR4bIngLHTBTuLUrp1ZHAfXkf2O1WsX5GvenfrwbbkdwoN6s\r\n" \
	" FGuaK2hcEWLH5tfjA7MCm+z2zbOxRsdfDLuj1rg0EmMTDBO4Mdv34SmtIV67V99DbX5nIFW\r\n" \
	" zoUzqx/PxSbOVB20GAuRHIl9hZZhvZQAmaAJOyO0thfM2f9E9WNSiFGEkdrNg6wDAH3efEZ\r\n" \
	" 5+YFTVUYYNc8hkT7qPoonYBaYCauwcpX47kWkOzbP1fgJ1RGGVfmgEbb64Sw==\r\n" \
	"From: Alice <alice@example.com>\r\n" \
	"To: bob@example.net\r\n" \
	"Subject: Fixture\r\n" \
	" message \t folded\r\n" \
	"Date: Mon, 1 Jan 2024 00:00:00 +0000\r\n" \
	"Message-ID: <fx1@example.com>\r\n" \
	"\r\n" \
	"Hello Bob,\r\n" \
	"\r\n" \
	"  This  line has   spaces \t\r\n" \
	"Bye.\r\n" \
	"\r\n" \
	"\r\n"

#define FX_SHA1 \
	"DKIM-Signature: v=1; a=rsa-sha1; c=relaxed/relaxed; d=example.com;\r\n" \
	" i=@example.com; q=dns/txt; s=rsa2048; t=1700000000; h=from : to :\r\n" \
	" subject : date : message-id; bh=GyRU7grhVgSjBlb2jO15au+ybCA=;\r\n" \
	" b=MPUNRyTm2THV4A4xwiLgHu7yWpavrXbyuwXONzFd+lKI6og0HyDJEambM//lh7Z1yLiML\r\n" \
	" u18hHGXmFhFf+xaZsj8SR0VrHdey4TuI/mv2fimKezAC8CMD1kjh0tdcWY/aVZoGS2d749C\r\n" \
	" meqwcDryrNY6wQgfuYypjz7lRThpK+KhQbMt9Rxslmq9KY8Oi9eWzfbKlsQRUcv/cb/i0ID\r\n" \
	" TMeR68FOT99ytcanifiCua2QEZraODGDEuYG7tpTmucu+zwPH5Gost+HVx5XiXDakQqjKDL\r\n" \
	" bQ6yatXAWo2DOeBM6McvhiGskrzZJ8JrTEA2SjSUwPfBThSkfnVrGTsT/b6Q==\r\n" \
	"From: Alice <alice@example.com>\r\n" \
	"To: bob@example.net\r\n" \
	"Subject: Fixture\r\n" \
	" message \t folded\r\n" \
	"Date: Mon, 1 Jan 2024 00:00:00 +0000\r\n" \
	"Message-ID: <fx1@example.com>\r\n" \
	"\r\n" \
	"Hello Bob,\r\n" \
	"\r\n" \
	"  This  line has   spaces \t\r\n" \
	"Bye.\r\n" \
	"\r\n" \
	"\r\n"

#define FX_RSA512 \
	"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.com;\r\n" \
	" i=@example.com; q=dns/txt; s=rsa512; t=1700000000; h=from : to :\r\n" \
	" subject : date : message-id;\r\n" \
	" bh=+wEd9b3Dl2ZBaz3qWPVZXh3h5DFSdF9pkhSSlqK+aak=;\r\n" \
	" b=OmAElzNF/Dnavjb6UH2xCq6+tqRtsT1blUNBtIXjtAdNr35q1aEfpNe63DayuoGQQRtSb\r\n" \
	" j24H9aPtaqcJzAENA==\r\n" \
	"From: Alice <alice@example.com>\r\n" \
	"To: bob@example.net\r\n" \
	"Subject: Fixture\r\n" \
	" message \t folded\r\n" \
	"Date: Mon, 1 Jan 2024 00:00:00 +0000\r\n" \
	"Message-ID: <fx1@example.com>\r\n" \
	"\r\n" \
	"Hello Bob,\r\n" \
	"\r\n" \
	"  This  line has   spaces \t\r\n" \
	"Bye.\r\n" \
	"\r\n" \
	"\r\n"

#define FX_KMISMATCH \
	"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.com;\r\n" \
	" i=@example.com; q=dns/txt; s=kmismatch; t=1700000000; h=from : to :\r\n" \
	" subject : date : message-id;\r\n" \
	" bh=+wEd9b3Dl2ZBaz3qWPVZXh3h5DFSdF9pkhSSlqK+aak=;\r\n" \
	" b=fnjHaEq6yuslLyBBCTtnRythupwbpXlCgJhAyBMMYM1v+unZRxAqOnFkU/tI659JQOd/i\r\n" \
	" 6qB1dmBh4VvW/rB79FmR+p+xRHdm5Kn70YgCuNGo4VjukncwD6HRw1UXPe49bnb8pdQMXwG\r\n" \
	" 4R++5KAI1e833mw0Wq60JhXi33UHZMct5j3CVAmkZoWGuKEjx9LOoGYdtcW0WfhsTDVfLBz\r\n" \
	" vv5GVEVLqF8yw8cq8BT2zbpyPG6mcchyMDcDMg3+ck2YN0OlCzVfdqFfKKan8LOpGVvnjKX\r\n" \
	" e4rM+NfzcLolVP3ksHqDTUkxb06PXx2mWI1gevQUV0dTEskBJHbs2wHSDmhA==\r\n" \
	"From: Alice <alice@example.com>\r\n" \
	"To: bob@example.net\r\n" \
	"Subject: Fixture\r\n" \
	" message \t folded\r\n" \
	"Date: Mon, 1 Jan 2024 00:00:00 +0000\r\n" \
	"Message-ID: <fx1@example.com>\r\n" \
	"\r\n" \
	"Hello Bob,\r\n" \
	"\r\n" \
	"  This  line has   spaces \t\r\n" \
	"Bye.\r\n" \
	"\r\n" \
	"\r\n"

#define FX_TESTING \
	"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.com;\r\n" \
	" i=@example.com; q=dns/txt; s=testing; t=1700000000; h=from : to :\r\n" \
	" subject : date : message-id;\r\n" \
	" bh=+wEd9b3Dl2ZBaz3qWPVZXh3h5DFSdF9pkhSSlqK+aak=;\r\n" \
	" b=CAAi/KBi7mEsmNzt2H8EjGW37p6v+Ok1FE+IX6g/5aKfO4M/0G6d01BZgzqcYV2HeiY1q\r\n" \
	" lWt9ZcOtqkIbNZDxnh7mi5LzVvhz3RVKnEBg87NFAlTVNp2Q5/eTWxJIBnrMf1xKEz8J/7v\r\n" \
	" 6Wb1+P4fL72q6i02guB7susAtt/ozaLj9tVmzj6ADQ5U1iRUZGUSEFfejJXQJ2Q2PmCqFhm\r\n" \
	" LKGryLXo2jFZiBeYeC1e85AHxPI/3j+c8oyx/Zwij7B8T7ln4WhOr38r6pONA97uRqyugpL\r\n" \
	" 2W5LOQIQRnqbBCN+3kbEnoUuJUzB1oyd/rW06fyvJJ/Gqz5eyfRNYupEGMMg==\r\n" \
	"From: Alice <alice@example.com>\r\n" \
	"To: bob@example.net\r\n" \
	"Subject: Fixture\r\n" \
	" message \t folded\r\n" \
	"Date: Mon, 1 Jan 2024 00:00:00 +0000\r\n" \
	"Message-ID: <fx1@example.com>\r\n" \
	"\r\n" \
	"Hello Bob,\r\n" \
	"\r\n" \
	"  This  line has   spaces \t\r\n" \
	"Bye.\r\n" \
	"\r\n" \
	"\r\n"

