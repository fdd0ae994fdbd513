"""seeding"""
