"""Log-in for the screens: accounts, passwords, lock-out, a second factor for administrators, and the Flask layer."""
